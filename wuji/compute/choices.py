from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from wuji.core.choices import ChoiceSet


class VmState(ChoiceSet):
    BUILDING = "building"
    ACTIVE = "active"
    STOPPED = "stopped"
    SUSPENDED = "suspended"
    ERROR = "error"
    RELEASED = "released"

    CHOICES = (
        (BUILDING, _("创建中"), "blue"),
        (ACTIVE, _("运行中"), "green"),
        (STOPPED, _("已关机"), "grey"),
        (SUSPENDED, _("已暂停服务"), "orange"),
        (ERROR, _("故障"), "red"),
        (RELEASED, _("已释放"), "grey"),
    )


class TaskState(ChoiceSet):
    NONE = ""
    SPAWNING = "spawning"
    STARTING = "starting"
    STOPPING = "stopping"
    REBOOTING = "rebooting"
    REBOOTING_HARD = "rebooting_hard"
    REINSTALLING = "reinstalling"
    SUSPENDING = "suspending"
    RESUMING = "resuming"
    RELEASING = "releasing"
    RESIZING = "resizing"
    MIGRATING = "migrating"
    SNAPSHOTTING = "snapshotting"
    REVERTING = "reverting"
    DELETING_SNAPSHOT = "unsnapshotting"
    RESETTING_PASSWORD = "resetting_password"
    # issue 5: network — the public IP applied to / taken from the instance (wuji.network)
    BINDING_IP = "binding_ip"
    UNBINDING_IP = "unbinding_ip"

    CHOICES = (
        (NONE, _("无")),
        (SPAWNING, _("正在创建")),
        (STARTING, _("正在开机")),
        (STOPPING, _("正在关机")),
        (REBOOTING, _("正在重启")),
        (REBOOTING_HARD, _("正在强制重启")),
        (REINSTALLING, _("正在重装系统")),
        (SUSPENDING, _("正在暂停服务")),
        (RESUMING, _("正在恢复服务")),
        (RELEASING, _("正在释放")),
        (RESIZING, _("正在变更配置")),
        (MIGRATING, _("正在迁移")),
        (SNAPSHOTTING, _("正在创建快照")),
        (REVERTING, _("正在回滚快照")),
        (DELETING_SNAPSHOT, _("正在删除快照")),
        (RESETTING_PASSWORD, _("正在重置密码")),
        (BINDING_IP, _("正在绑定公网 IP")),
        (UNBINDING_IP, _("正在解绑公网 IP")),
    )


class PowerState(ChoiceSet):
    RUNNING = "running"
    SHUTDOWN = "shutdown"
    PAUSED = "paused"
    CRASHED = "crashed"
    NOSTATE = "nostate"

    CHOICES = (
        (RUNNING, pgettext_lazy("power state", "运行")),
        (SHUTDOWN, pgettext_lazy("power state", "关机")),
        (PAUSED, pgettext_lazy("power state", "暂停")),
        (CRASHED, pgettext_lazy("power state", "崩溃")),
        (NOSTATE, pgettext_lazy("power state", "未知")),
    )


class SuspensionReason(ChoiceSet):
    EXPIRY = "expiry"
    ARREARS = "arrears"
    ABUSE = "abuse"
    SECURITY = "security"
    LEGAL = "legal"
    STAFF = "staff"
    USER = "user"

    SELF_LIFTING = (EXPIRY, ARREARS)  # only these lift automatically on payment

    CHOICES = (
        (EXPIRY, _("到期")),
        (ARREARS, _("欠费")),
        (ABUSE, _("滥用")),
        (SECURITY, _("安全")),
        (LEGAL, _("法律/备案")),
        (STAFF, _("工作人员")),
        (USER, _("用户申请")),
    )


class Operation(ChoiceSet):
    """Customer instructions on a server, with the task_state each sets and the vm_states it allows."""

    START = "start"
    STOP = "stop"
    REBOOT = "reboot"
    REBOOT_HARD = "reboot_hard"
    REINSTALL = "reinstall"
    RESET_PASSWORD = "reset_password"

    GIVES_NEW_PASSWORD = (REINSTALL, RESET_PASSWORD)  # a new root password, generated and shown once
    TASK_STATE = {
        START: TaskState.STARTING,
        STOP: TaskState.STOPPING,
        REBOOT: TaskState.REBOOTING,
        REBOOT_HARD: TaskState.REBOOTING_HARD,
        REINSTALL: TaskState.REINSTALLING,
        RESET_PASSWORD: TaskState.RESETTING_PASSWORD,
    }
    ALLOWED_FROM = {
        START: (VmState.STOPPED, VmState.ERROR),
        STOP: (VmState.ACTIVE, VmState.ERROR),
        REBOOT: (VmState.ACTIVE,),
        REBOOT_HARD: (VmState.ACTIVE, VmState.STOPPED, VmState.ERROR),
        REINSTALL: (VmState.ACTIVE, VmState.STOPPED, VmState.ERROR),
        RESET_PASSWORD: (VmState.ACTIVE,),  # the guest agent sets it, so the guest must run (decision 0027)
    }

    CHOICES = (
        (START, _("开机")),
        (STOP, _("关机")),
        (REBOOT, _("重启")),
        (REBOOT_HARD, _("强制重启")),
        (REINSTALL, _("重装系统")),
        (RESET_PASSWORD, _("重置密码")),
    )


# --- issue 5: migration (5.5, 8.6) ----------------------------------------------------------------------


class MigrationScope(ChoiceSet):
    """What staff chose to move: one server, every server of a node, or every server of a region (机房迁移)."""

    SERVER = "server"
    NODE = "node"
    REGION = "region"

    CHOICES = (
        (SERVER, _("单台服务器")),
        (NODE, _("整台宿主机")),
        (REGION, _("整个机房（地域）")),
    )


class MigrationState(ChoiceSet):
    """State of a migration plan and of each of its servers."""

    SCHEDULED = "scheduled"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"

    ACTIVE = (SCHEDULED, RUNNING)  # holds capacity on the target node and a reserved address

    CHOICES = (
        (SCHEDULED, _("已排期"), "blue"),
        (RUNNING, _("迁移中"), "orange"),
        (DONE, _("已完成"), "green"),
        (FAILED, _("失败"), "red"),
        (CANCELLED, _("已取消"), "grey"),
    )


class SnapshotState(ChoiceSet):
    """A snapshot's life; `deleted` rows stay as the record of what existed (and was charged) when."""

    CREATING = "creating"
    AVAILABLE = "available"
    REVERTING = "reverting"
    DELETING = "deleting"
    ERROR = "error"
    DELETED = "deleted"

    LIVE = (CREATING, AVAILABLE, REVERTING, DELETING)  # count against the limit, keep their name

    CHOICES = (
        (CREATING, _("创建中"), "blue"),
        (AVAILABLE, _("可用"), "green"),
        (REVERTING, _("回滚中"), "blue"),
        (DELETING, _("删除中"), "orange"),
        (ERROR, _("创建失败"), "red"),
        (DELETED, _("已删除"), "grey"),
    )


# --- issue 5: push (服务器push, 3.2) ----------------------------------------------------------------------


class PushState(ChoiceSet):
    """States of a server push (服务器push, clause 3.2)."""

    OFFERED = "offered"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    CANCELLED = "cancelled"
    EXPIRED = "expired"

    CLOSED = (ACCEPTED, DECLINED, CANCELLED, EXPIRED)

    CHOICES = (
        (OFFERED, _("待接收"), "blue"),
        (ACCEPTED, _("已接收"), "green"),
        (DECLINED, _("已拒绝"), "orange"),
        (CANCELLED, _("已撤回"), "grey"),
        (EXPIRED, _("已过期"), "grey"),
    )
