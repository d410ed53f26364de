from .payg_tasks import *  # noqa: F401,F403
