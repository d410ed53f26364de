"""Compute: hypervisor nodes and the servers customers pay for (three states, after Nova)."""

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .choices import PowerState, SuspensionReason, TaskState, VmState


class Node(models.Model):
    """A compute node reached by its libvirt URI. `virt_type` is a setting, never guessed (see docs)."""

    name = models.SlugField(verbose_name=_("name"), max_length=64, unique=True)
    region = models.ForeignKey(
        to="catalog.Region", verbose_name=_("region"), on_delete=models.PROTECT, related_name="nodes"
    )
    uri = models.CharField(verbose_name=_("libvirt URI"), max_length=255)
    virt_type = models.CharField(
        verbose_name=_("virtualisation type"), max_length=8, choices=[("qemu", "qemu (TCG)"), ("kvm", "kvm")],
        default="qemu",
    )
    storage_pool = models.CharField(verbose_name=_("storage pool"), max_length=64, default="default")
    vcpus = models.PositiveIntegerField(verbose_name=_("vCPU capacity"))
    memory_mib = models.PositiveIntegerField(verbose_name=_("memory capacity (MiB)"))
    disk_gib = models.PositiveIntegerField(verbose_name=_("disk capacity (GiB)"))
    is_enabled = models.BooleanField(verbose_name=_("accepts new servers"), default=True)

    class Meta:
        verbose_name = _("compute node")
        verbose_name_plural = _("compute nodes")
        ordering = ["region", "name"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_test_hypervisor(self) -> bool:
        return self.uri.startswith(("test://", "fake://"))


class Server(models.Model):
    """A customer's server.

    `vm_state` is what the customer expects, `task_state` the operation in flight (set only by a
    compare-and-swap from none), `power_state` what the hypervisor last reported.
    """

    uuid = models.UUIDField(verbose_name=_("UUID"), default=uuid.uuid4, unique=True, editable=False)
    owner = models.ForeignKey(
        to=settings.AUTH_USER_MODEL, verbose_name=_("owner"), on_delete=models.PROTECT, related_name="servers"
    )
    name = models.CharField(verbose_name=_("name"), max_length=64)
    region = models.ForeignKey(
        to="catalog.Region", verbose_name=_("region"), on_delete=models.PROTECT, related_name="+"
    )
    plan = models.ForeignKey(to="catalog.Plan", verbose_name=_("plan"), on_delete=models.PROTECT, related_name="+")
    image = models.ForeignKey(to="catalog.Image", verbose_name=_("image"), on_delete=models.PROTECT, related_name="+")
    node = models.ForeignKey(
        to=Node, verbose_name=_("node"), on_delete=models.PROTECT, related_name="servers", null=True, blank=True
    )
    # The ordered configuration, copied at purchase so a later plan change never alters a paid server (5.1).
    vcpus = models.PositiveSmallIntegerField(verbose_name=_("vCPUs"))
    memory_mib = models.PositiveIntegerField(verbose_name=_("memory (MiB)"))
    disk_gib = models.PositiveIntegerField(verbose_name=_("disk (GiB)"))
    vm_state = models.CharField(verbose_name=_("state"), max_length=16, choices=VmState, default=VmState.BUILDING)
    task_state = models.CharField(
        verbose_name=_("operation in progress"), max_length=24, choices=TaskState, default=TaskState.NONE, blank=True
    )
    task_state_changed_at = models.DateTimeField(verbose_name=_("operation started at"), null=True, blank=True)
    power_state = models.CharField(
        verbose_name=_("power state"), max_length=16, choices=PowerState, default=PowerState.NOSTATE
    )
    suspension_reason = models.CharField(
        verbose_name=_("suspension reason"), max_length=16, choices=SuspensionReason, blank=True
    )
    last_error = models.CharField(verbose_name=_("last error"), max_length=500, blank=True)
    created_at = models.DateTimeField(verbose_name=_("created at"))
    expires_at = models.DateTimeField(verbose_name=_("expires at"), null=True, blank=True)

    class Meta:
        verbose_name = _("server")
        verbose_name_plural = _("servers")
        ordering = ["-id"]
        indexes = [models.Index(fields=["owner", "-id"], name="compute_server_owner_recent")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(vm_state=VmState.SUSPENDED) | models.Q(suspension_reason=""),
                name="compute_server_reason_only_when_suspended",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.uuid})"
