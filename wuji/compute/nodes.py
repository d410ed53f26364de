"""Compute nodes' health: what each hypervisor reports, checked periodically and on demand from the console.

The check reads the node through its cached driver (`tasks.driver_for`), so it also keeps that connection
in use and re-opens it after a drop. Its result is one NodeHealth row per node; placement skips a node
whose last check failed.
"""

import logging

from .drivers import DriverError
from .models import Node, NodeHealth
from .tasks import driver_for

log = logging.getLogger(__name__)


def check_node(node: Node, *, now) -> NodeHealth:
    """Ask the node's hypervisor for its version and free capacity and record what it said (or its error)."""
    try:
        stats = driver_for(node).get_host_stats()
    except DriverError as exc:
        error = (getattr(exc, "detail", None) or str(exc))[:500]
        log.warning("node %s unreachable: %s", node.name, error)
        health, _ = NodeHealth.objects.update_or_create(
            node=node, defaults={"is_reachable": False, "checked_at": now, "last_error": error,
                                 "last_error_at": now})
        return health
    health, _ = NodeHealth.objects.update_or_create(node=node, defaults={
        "is_reachable": True, "checked_at": now, "hypervisor": stats.hypervisor[:32], "version": stats.version[:32],
        "host_vcpus": stats.vcpus, "host_memory_mib": stats.memory_mib, "free_memory_mib": stats.free_memory_mib,
        "instances": stats.instances,
    })
    return health


def check_nodes(nodes, *, now) -> dict[str, int]:
    """Check each node in turn; returns how many were reachable and unreachable."""
    counts = {"reachable": 0, "unreachable": 0}
    for node in nodes:
        counts["reachable" if check_node(node, now=now).is_reachable else "unreachable"] += 1
    return counts
