"""Compute nodes' health: what each hypervisor reports, checked periodically and on demand from the console.

The check reads the node through its cached driver (`tasks.driver_for`), so it also keeps that connection
in use and re-opens it after a drop. Its result is one NodeHealth row per node; placement skips a node
whose last check failed.
"""

import logging
from concurrent.futures import ThreadPoolExecutor

from .drivers import DriverError
from .models import Node, NodeHealth
from .tasks import driver_for

log = logging.getLogger(__name__)


CHECK_THREADS = 8  # nodes asked at once: one slow or hanging node does not hold up the others


def _ask(node: Node):
    """The node's host statistics, or the DriverError that says why it could not answer (no database here:
    this runs in a worker thread)."""
    try:
        return driver_for(node).get_host_stats()
    except DriverError as exc:
        return exc


def _record(node: Node, answer, *, now) -> NodeHealth:
    if isinstance(answer, DriverError):
        error = (getattr(answer, "detail", None) or str(answer))[:500]
        log.warning("node %s unreachable: %s", node.name, error)
        health, _ = NodeHealth.objects.update_or_create(
            node=node, defaults={"is_reachable": False, "checked_at": now, "last_error": error,
                                 "last_error_at": now})
        return health
    health, _ = NodeHealth.objects.update_or_create(node=node, defaults={
        "is_reachable": True, "checked_at": now, "hypervisor": answer.hypervisor[:32],
        "version": answer.version[:32], "host_vcpus": answer.vcpus, "host_memory_mib": answer.memory_mib,
        "free_memory_mib": answer.free_memory_mib, "instances": answer.instances,
    })
    return health


def check_node(node: Node, *, now) -> NodeHealth:
    """Ask the node's hypervisor for its version and free capacity and record what it said (or its error)."""
    return _record(node, _ask(node), now=now)


def check_nodes(nodes, *, now) -> dict[str, int]:
    """Ask every node at once (threads, so a hanging node delays no other), then record the answers; returns
    how many were reachable and unreachable."""
    nodes = list(nodes)
    counts = {"reachable": 0, "unreachable": 0}
    if not nodes:
        return counts
    with ThreadPoolExecutor(max_workers=min(CHECK_THREADS, len(nodes)), thread_name_prefix="node-check") as pool:
        answers = list(pool.map(_ask, nodes))
    for node, answer in zip(nodes, answers, strict=True):
        counts["reachable" if _record(node, answer, now=now).is_reachable else "unreachable"] += 1
    return counts
