"""Network follows compute's signals: an address for each new server, applied once the instance exists,
returned when the server is released."""

from django.dispatch import receiver

from wuji.compute.choices import VmState
from wuji.compute.signals import server_created, server_pushed, vm_state_written

from . import services


@receiver(server_created, dispatch_uid="network.allocate_on_create")
def allocate_on_create(sender, server, **kwargs):
    # In create_server's transaction: a region without pools gives no public IP; an exhausted one refuses.
    services.allocate(server)


@receiver(vm_state_written, dispatch_uid="network.follow_vm_state")
def follow_vm_state(sender, server_id, vm_state, **kwargs):
    if vm_state == VmState.RELEASED:
        services.release_address(server_id)
    elif vm_state in (VmState.ACTIVE, VmState.STOPPED):
        # Provisioning (or a recovery) just finished: apply the address it was allocated, if still pending.
        services.catch_up(server_id)


@receiver(server_pushed, dispatch_uid="network.holder_on_push")
def holder_on_push(sender, server, to_owner, at, **kwargs):
    # In the acceptance's transaction: the address stays, its holder changes from this instant.
    services.transfer_holder(server, to=to_owner, at=at)
