"""The packaged demo book: real prices for 20 stocks and 40 portfolios over them."""

from prometheus.demo.portfolios import DEMO_PORTFOLIOS, DemoInputs, DemoPortfolio, demo_holdings, load_demo_inputs

__all__ = ["DEMO_PORTFOLIOS", "DemoInputs", "DemoPortfolio", "demo_holdings", "load_demo_inputs"]
