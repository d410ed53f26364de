"""Signals compute sends so that other apps (billing's usage meter) can follow a server's life without
compute depending on them. Receivers run inside the transaction that made the change."""

from django.dispatch import Signal

# Sent after a server's vm_state is written. Arguments: server_id, vm_state, power_state (may be None),
# at (the platform clock's now). Sent for every write that names a vm_state, changed or not.
vm_state_written = Signal()

# Sent when provisioning a paid server failed for good (the server ends in `error` from `spawning`), inside
# the transaction that recorded it. Arguments: server_id, error. Billing refunds the order (receivers).
provisioning_failed = Signal()

# Sent by create_server right after the server row is written, inside the purchase's transaction. Argument:
# server. Network allocates its public IP here; a receiver may refuse the purchase by raising NoCapacity.
server_created = Signal()

# issue 5: push — sent when a server push is accepted, inside the acceptance's transaction, after the owner
# changed. Arguments: server, from_owner, to_owner, at (the platform clock). Network moves the public IP's
# holder here (its history keeps the old holder).
server_pushed = Signal()
# Sent by snapshots.create_snapshot before anything is written. Arguments: server. Billing refuses a snapshot
# it cannot charge for (no catalogue price, unpaid snapshot charges, too little balance) by raising
# OperationRefused.
snapshot_requested = Signal()

# Sent when a snapshot starts or stops existing on the node, inside the transaction that recorded it.
# Arguments: snapshot_id, state (available or deleted), at. Billing's snapshot meter starts and stops here.
snapshot_written = Signal()
