"""Encoders: the numeric portfolio encoder and the joint layer."""

from prometheus.encoders.feature_schema import PORTFOLIO_CORE_V1, Feature, FeatureSchema
from prometheus.encoders.joint import (
    JOINT_PORTFOLIO_MODEL_ID,
    PORTFOLIO_CORE_JOINT_TYPE,
    IdentityNumericJointModel,
    JointEmbeddingService,
    JointExample,
    joint_model,
)
from prometheus.encoders.numeric import NUMERIC_PORTFOLIO_MODEL_ID, NumericPortfolioEncoder, numeric_encoder
from prometheus.store.embeddings import JointEmbeddingStore

__all__ = [
    "JOINT_PORTFOLIO_MODEL_ID",
    "NUMERIC_PORTFOLIO_MODEL_ID",
    "PORTFOLIO_CORE_JOINT_TYPE",
    "PORTFOLIO_CORE_V1",
    "Feature",
    "FeatureSchema",
    "IdentityNumericJointModel",
    "JointEmbeddingService",
    "JointEmbeddingStore",
    "JointExample",
    "NumericPortfolioEncoder",
    "joint_model",
    "numeric_encoder",
]
