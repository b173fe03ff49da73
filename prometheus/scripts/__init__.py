"""Command-line tools, one thin module each: parse, call a service, translate errors."""
