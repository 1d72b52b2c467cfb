"""fetal-lung-bench: gestational-age estimators from fetal lung ultrasound, compared honestly.

Public API (timm-style)::

    from benchmark import list_methods, create_method, register_method, BaseMethod
"""

from benchmark.base import BaseMethod
from benchmark.registry import (
    create_method,
    list_methods,
    method_info,
    register_family,
    register_method,
)

__version__ = "0.1.0"
__all__ = [
    "BaseMethod",
    "create_method",
    "list_methods",
    "method_info",
    "register_family",
    "register_method",
    "__version__",
]
