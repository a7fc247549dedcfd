"""The settings collection under its former name: see ``kupgrade_lint.settings``."""

from kupgrade_lint.settings import (  # noqa: F401
    CONTROL_PLANE,
    KUBELET_ENV_FILES,
    UNIT_DIRS,
    ComponentConfig,
    EmbeddedConfig,
    FlagSetting,
    GateSetting,
    StaticPod,
)
