"""Compute: hypervisor nodes and the servers customers pay for (three states, after Nova)."""

import uuid
from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from .choices import (
    MigrationScope,
    MigrationState,
    PowerState,
    PushState,
    SnapshotState,
    SuspensionReason,
    TaskState,
    VmState,
)
from .validators import validate_console_address, validate_libvirt_uri

RATIO_VALIDATORS = [MinValueValidator(Decimal("0.1")), MaxValueValidator(Decimal("64"))]


def ratio_field(verbose_name) -> models.DecimalField:
    return models.DecimalField(verbose_name=verbose_name, max_digits=5, decimal_places=2, default=Decimal("1"),
                               validators=RATIO_VALIDATORS)


class Node(models.Model):
    """A compute node reached by its libvirt URI. `virt_type` is a setting, never guessed (see docs).

    Placement may allocate up to capacity × allocation ratio of each resource (overcommit when the ratio is
    above 1, a reserve when below)."""

    name = models.SlugField(verbose_name=_("name"), max_length=64, unique=True)
    region = models.ForeignKey(
        to="catalog.Region", verbose_name=_("region"), on_delete=models.PROTECT, related_name="nodes"
    )
    uri = models.CharField(verbose_name=_("libvirt URI"), max_length=255, validators=[validate_libvirt_uri])
    virt_type = models.CharField(
        verbose_name=_("virtualisation type"), max_length=8, choices=[("qemu", "qemu (TCG)"), ("kvm", "kvm")],
        default="qemu",
    )
    storage_pool = models.CharField(verbose_name=_("storage pool"), max_length=64, default="default")
    console_address = models.GenericIPAddressField(
        verbose_name=_("console listen address"), default="127.0.0.1", validators=[validate_console_address],
        help_text=_("节点管理网络上的地址，新建服务器的 VNC 显示监听于此，控制台代理须能连到它；只能是本机或内网地址，"
                    "不得是公网地址。本机节点用 127.0.0.1。"),
    )
    vcpus = models.PositiveIntegerField(verbose_name=_("vCPU capacity"))
    memory_mib = models.PositiveIntegerField(verbose_name=_("memory capacity (MiB)"))
    disk_gib = models.PositiveIntegerField(verbose_name=_("disk capacity (GiB)"))
    cpu_allocation_ratio = ratio_field(_("vCPU allocation ratio"))
    ram_allocation_ratio = ratio_field(_("memory allocation ratio"))
    disk_allocation_ratio = ratio_field(_("disk allocation ratio"))
    is_enabled = models.BooleanField(verbose_name=_("accepts new servers"), default=True)

    class Meta:
        verbose_name = _("compute node")
        verbose_name_plural = _("compute nodes")
        ordering = ["region", "name"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_test_hypervisor(self) -> bool:
        return self.uri.startswith(("test://", "test+", "fake://"))  # test+unix://: the test driver in a libvirtd

    @property
    def allocatable_vcpus(self) -> int:
        return int(self.vcpus * self.cpu_allocation_ratio)

    @property
    def allocatable_memory_mib(self) -> int:
        return int(self.memory_mib * self.ram_allocation_ratio)

    @property
    def allocatable_disk_gib(self) -> int:
        return int(self.disk_gib * self.disk_allocation_ratio)


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


class NodeHealth(models.Model):
    """What the last periodic check of a node found (`wuji.compute.nodes.check_node`).

    Kept apart from Node so that staff editing a node's settings never overwrite what the check wrote, and
    the check never overwrites their edit. The hypervisor's figures are the last ones it reported."""

    node = models.OneToOneField(
        to=Node, verbose_name=_("node"), on_delete=models.CASCADE, primary_key=True, related_name="health"
    )
    is_reachable = models.BooleanField(verbose_name=_("reachable"))
    hypervisor = models.CharField(verbose_name=_("hypervisor"), max_length=32, blank=True)
    version = models.CharField(verbose_name=_("hypervisor version"), max_length=32, blank=True)
    host_vcpus = models.PositiveIntegerField(verbose_name=_("host CPUs"), null=True, blank=True)
    host_memory_mib = models.PositiveIntegerField(verbose_name=_("host memory (MiB)"), null=True, blank=True)
    free_memory_mib = models.PositiveIntegerField(verbose_name=_("free host memory (MiB)"), null=True, blank=True)
    instances = models.PositiveIntegerField(verbose_name=_("instances on the host"), null=True, blank=True)
    checked_at = models.DateTimeField(verbose_name=_("last checked at"))
    last_error = models.CharField(verbose_name=_("last error"), max_length=500, blank=True)
    last_error_at = models.DateTimeField(verbose_name=_("last error at"), null=True, blank=True)

    class Meta:
        verbose_name = _("node health")
        verbose_name_plural = _("node health")

    def __str__(self) -> str:
        return f"{self.node_id}: {'up' if self.is_reachable else 'down'}"


class ServerSample(models.Model):
    """One reading of a server's cumulative hypervisor counters (`wuji.compute.metrics`).

    Counters are stored as the hypervisor reports them (they restart from zero when the guest's QEMU
    process restarts); rates are computed when read. `None` where the hypervisor does not report one.
    The server is referenced without a database constraint: samples are written in bulk (COPY) and purged
    by age, and servers are never deleted (they end as `released`)."""

    id = models.BigAutoField(primary_key=True)
    server = models.ForeignKey(
        to=Server, verbose_name=_("server"), on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    at = models.DateTimeField(verbose_name=_("sampled at"))
    cpu_time_ns = models.BigIntegerField(verbose_name=_("CPU time (ns)"))
    net_rx_bytes = models.BigIntegerField(verbose_name=_("network bytes in"), null=True)
    net_tx_bytes = models.BigIntegerField(verbose_name=_("network bytes out"), null=True)
    net_rx_packets = models.BigIntegerField(verbose_name=_("network packets in"), null=True)
    net_tx_packets = models.BigIntegerField(verbose_name=_("network packets out"), null=True)
    disk_read_bytes = models.BigIntegerField(verbose_name=_("disk bytes read"), null=True)
    disk_write_bytes = models.BigIntegerField(verbose_name=_("disk bytes written"), null=True)

    class Meta:
        verbose_name = _("server sample")
        verbose_name_plural = _("server samples")
        indexes = [models.Index(fields=["server", "at"], name="compute_sample_server_at")]

    def __str__(self) -> str:
        return f"{self.server_id} @ {self.at:%Y-%m-%d %H:%M:%S}"
# --- issue 5: migration (5.5, 8.6) ----------------------------------------------------------------------


class MigrationPlan(models.Model):
    """Staff's decision to move a server, a node or a region to `target_node` in a window (机房迁移, 5.5).

    The window starts at least 3 calendar days (Asia/Shanghai) after the plan was made; that rule and the
    target's capacity and addresses are checked by `migration.schedule`, the only writer."""

    scope = models.CharField(verbose_name=_("scope"), max_length=8, choices=MigrationScope)
    # What was chosen, by scope: the server, the node or the region being moved.
    server = models.ForeignKey(
        to=Server, verbose_name=_("server"), on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    node = models.ForeignKey(
        to=Node, verbose_name=_("source node"), on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    region = models.ForeignKey(
        to="catalog.Region", verbose_name=_("source region"), on_delete=models.PROTECT, related_name="+",
        null=True, blank=True,
    )
    target_node = models.ForeignKey(
        to=Node, verbose_name=_("target node"), on_delete=models.PROTECT, related_name="incoming_migrations"
    )
    window_start = models.DateTimeField(verbose_name=_("window start"))
    window_end = models.DateTimeField(verbose_name=_("window end"))
    reason = models.CharField(verbose_name=_("reason"), max_length=500)
    created_by = models.ForeignKey(
        to=settings.AUTH_USER_MODEL, verbose_name=_("created by"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(verbose_name=_("created at"))
    state = models.CharField(
        verbose_name=_("state"), max_length=16, choices=MigrationState, default=MigrationState.SCHEDULED
    )

    class Meta:
        verbose_name = _("migration plan")
        verbose_name_plural = _("migration plans")
        ordering = ["-window_start", "-pk"]
        constraints = [
            models.CheckConstraint(condition=models.Q(window_end__gt=models.F("window_start")),
                                   name="compute_migration_window_ends_after_start",
                                   violation_error_message=_("window end must be after its start")),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {MigrationScope.label(self.scope)} → {self.target_node}"


class MigrationItem(models.Model):
    """One server of a plan: where it goes, the address reserved for it there, and what happened.

    While active (scheduled or running) the item holds the server's size on the target node (placement
    counts it) and its reserved address (allocation skips it). Each notice is sent once: the row keeps it."""

    plan = models.ForeignKey(to=MigrationPlan, verbose_name=_("plan"), on_delete=models.PROTECT,
                             related_name="items")
    server = models.ForeignKey(to=Server, verbose_name=_("server"), on_delete=models.PROTECT,
                               related_name="migration_items")
    source_node = models.ForeignKey(to=Node, verbose_name=_("source node"), on_delete=models.PROTECT,
                                    related_name="+")
    target_node = models.ForeignKey(to=Node, verbose_name=_("target node"), on_delete=models.PROTECT,
                                    related_name="+")
    old_address = models.GenericIPAddressField(verbose_name=_("old address"), protocol="IPv4", null=True,
                                               blank=True)
    # The address after the move: the same inside a region, else reserved in the target region's pools at
    # scheduling time (network skips it while the item is active). Null: the server has no public IP.
    new_address = models.GenericIPAddressField(verbose_name=_("new address"), protocol="IPv4", null=True,
                                               blank=True)
    was_running = models.BooleanField(verbose_name=_("was running"), default=False)
    state = models.CharField(
        verbose_name=_("state"), max_length=16, choices=MigrationState, default=MigrationState.SCHEDULED
    )
    error = models.CharField(verbose_name=_("error"), max_length=500, blank=True)
    started_at = models.DateTimeField(verbose_name=_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(verbose_name=_("finished at"), null=True, blank=True)
    # The proof of notice: the inbox notice (with its deliveries) sent for each step, once.
    scheduled_notice = models.ForeignKey(to="notifications.Notice", verbose_name=_("scheduling notice"),
                                         on_delete=models.PROTECT, related_name="+", null=True, blank=True)
    reminder_notice = models.ForeignKey(to="notifications.Notice", verbose_name=_("24-hour reminder"),
                                        on_delete=models.PROTECT, related_name="+", null=True, blank=True)
    result_notice = models.ForeignKey(to="notifications.Notice", verbose_name=_("result notice"),
                                      on_delete=models.PROTECT, related_name="+", null=True, blank=True)

    class Meta:
        verbose_name = _("server migration")
        verbose_name_plural = _("server migrations")
        ordering = ["plan", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["server"], condition=models.Q(state__in=MigrationState.ACTIVE),
                                    name="compute_one_active_migration_per_server",
                                    violation_error_message=_("this server already has a migration scheduled")),
            models.UniqueConstraint(fields=["new_address"],
                                    condition=models.Q(state__in=MigrationState.ACTIVE),
                                    name="compute_one_active_reservation_per_address"),
        ]

    def __str__(self) -> str:
        return f"{self.server} → {self.target_node}"

    @property
    def address_changes(self) -> bool:
        """Whether the owner must point DNS elsewhere: the move gives the server another public IP."""
        return bool(self.new_address and self.new_address != self.old_address)
# --- issue 5: push -------------------------------------------------------------------------------------------


class ServerPush(models.Model):
    """An offer by a server's owner to hand it to another account (服务器push, clauses 3.1.1, 3.2).

    Invariant: at most one open (offered) push per server, enforced by a partial unique constraint. The fee is
    the one shown to the sender when offering; it is charged to the sender when the receiver accepts."""

    server = models.ForeignKey(
        to=Server, verbose_name=_("服务器"), on_delete=models.PROTECT, related_name="pushes"
    )
    sender = models.ForeignKey(
        to=settings.AUTH_USER_MODEL, verbose_name=_("转出方"), on_delete=models.PROTECT, related_name="+"
    )
    receiver = models.ForeignKey(
        to=settings.AUTH_USER_MODEL, verbose_name=_("接收方"), on_delete=models.PROTECT, related_name="+"
    )
    state = models.CharField(
        verbose_name=_("状态"), max_length=16, choices=PushState, default=PushState.OFFERED
    )
    fee_fen = models.PositiveBigIntegerField(verbose_name=_("转让手续费（分）"), default=0)
    fee_transaction = models.OneToOneField(
        to="ledger.Transaction", verbose_name=_("手续费扣款"), on_delete=models.PROTECT, related_name="+",
        null=True, blank=True,
    )
    idempotency_key = models.CharField(verbose_name=_("幂等键"), max_length=100)
    # The sender's recorded instruction; the acceptance, refusal, withdrawal or lapse is its outcome (3.1.1).
    offer_instruction = models.OneToOneField(
        to="audit.Instruction", verbose_name=_("转让指令"), on_delete=models.PROTECT, related_name="+",
        null=True, blank=True,
    )
    offered_at = models.DateTimeField(verbose_name=_("发起时间"))
    expires_at = models.DateTimeField(verbose_name=_("接收截止时间"))
    closed_at = models.DateTimeField(verbose_name=_("结束时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("服务器转让")
        verbose_name_plural = _("服务器转让")
        ordering = ["-offered_at", "-pk"]
        indexes = [
            models.Index(fields=["state", "expires_at"], name="compute_push_state_expires"),
            models.Index(fields=["receiver", "-offered_at"], name="compute_push_receiver_recent"),
            models.Index(fields=["sender", "-offered_at"], name="compute_push_sender_recent"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["server"], condition=models.Q(state=PushState.OFFERED), name="compute_one_open_push_per_server",
                violation_error_message=_("该服务器已有一个待接收的转让。"),
            ),
            models.UniqueConstraint(fields=["sender", "idempotency_key"], name="compute_push_idempotent"),
            models.CheckConstraint(
                condition=~models.Q(sender=models.F("receiver")), name="compute_push_not_to_self",
                violation_error_message=_("不能把服务器转让给自己。"),
            ),
            models.CheckConstraint(
                condition=models.Q(state=PushState.OFFERED, closed_at__isnull=True)
                | (~models.Q(state=PushState.OFFERED) & models.Q(closed_at__isnull=False)),
                name="compute_push_closed_when_not_open",
            ),
        ]

    def __str__(self) -> str:
        return f"push #{self.pk} server {self.server_id}"
class Snapshot(models.Model):
    """A snapshot (快照) of a server on its node: the disk, plus the memory when taken while running.

    `name` is the customer's label, unique among the server's live snapshots; `hypervisor_name` is the
    platform's own name on the node. Rows are never deleted: `deleted_at` closes the period billing charges
    for, which began at `created_at` (when the node confirmed the snapshot).
    """

    server = models.ForeignKey(
        to=Server, verbose_name=_("server"), on_delete=models.PROTECT, related_name="snapshots"
    )
    name = models.CharField(verbose_name=_("name"), max_length=64)
    hypervisor_name = models.CharField(verbose_name=_("name on the node"), max_length=64, unique=True)
    state = models.CharField(
        verbose_name=_("state"), max_length=16, choices=SnapshotState, default=SnapshotState.CREATING
    )
    power_state = models.CharField(
        verbose_name=_("power state when taken"), max_length=16, choices=PowerState, blank=True
    )
    size_bytes = models.PositiveBigIntegerField(verbose_name=_("size (bytes)"), null=True, blank=True)
    error = models.CharField(verbose_name=_("error"), max_length=500, blank=True)
    idempotency_key = models.CharField(verbose_name=_("idempotency key"), max_length=100)
    requested_at = models.DateTimeField(verbose_name=_("requested at"))
    created_at = models.DateTimeField(verbose_name=_("created at"), null=True, blank=True)
    deleted_at = models.DateTimeField(verbose_name=_("deleted at"), null=True, blank=True)

    class Meta:
        verbose_name = _("snapshot")
        verbose_name_plural = _("snapshots")
        ordering = ["server", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["server", "name"], condition=models.Q(state__in=SnapshotState.LIVE),
                name="compute_snapshot_live_name_unique",
                violation_error_message=_("该服务器已有同名快照。"),
            ),
            models.UniqueConstraint(fields=["server", "idempotency_key"], name="compute_snapshot_idempotent"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.server_id})"
# --- issue 5: console -------------------------------------------------------------------------------------


class ConsoleToken(models.Model):
    """A grant to open one server's VNC console once (远程控制台), after Nova's console tokens.

    Only a keyed hash of the token is stored: the token itself exists in the response that issued it and in
    the browser that uses it. A token is redeemed at most once (`used_at` is set by a conditional UPDATE) and
    only before `expires_at`; it is bound to the user it was issued to and to one server.
    """

    digest = models.CharField(verbose_name=_("token hash"), max_length=64, unique=True, editable=False)
    user = models.ForeignKey(
        to=settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="+"
    )
    server = models.ForeignKey(
        to=Server, verbose_name=_("server"), on_delete=models.CASCADE, related_name="console_tokens"
    )
    instruction = models.ForeignKey(
        to="audit.Instruction", verbose_name=_("instruction"), on_delete=models.PROTECT, related_name="+",
        null=True, blank=True,
    )
    created_at = models.DateTimeField(verbose_name=_("created at"))
    expires_at = models.DateTimeField(verbose_name=_("expires at"), db_index=True)
    used_at = models.DateTimeField(verbose_name=_("used at"), null=True, blank=True)

    class Meta:
        verbose_name = _("console token")
        verbose_name_plural = _("console tokens")
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(expires_at__gt=models.F("created_at")),
                name="compute_consoletoken_expires_after_creation",
            ),
        ]

    def __str__(self) -> str:
        return f"console token #{self.pk} for {self.server_id}"
