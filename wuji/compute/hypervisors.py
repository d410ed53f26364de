"""Process-level hypervisor set-up for workers.

libvirt's `test:///default` hypervisor lives inside the process that opens it and forgets everything
when that process exits; served by a libvirtd (`test+unix:///default`, as the scale-out test uses it) it is
shared by every process connected to it, and forgotten when the last connection closes. A worker serving such
a demo node therefore registers the catalogue's image volumes on it at start; real nodes (qemu:///system,
qemu+ssh://…) have their images placed by staff.
"""

from wuji.catalog.models import Image

from .models import Node
from .tasks import driver_for

DEMO_IMAGE_GIB = 1


def prepare_demo_hypervisors(log=print) -> None:
    volumes = sorted({volume for image in Image.objects.filter(is_active=True) for volume in image.volumes})
    for node in Node.objects.filter(uri__regex=r"^test(\+[a-z]+)?://"):
        driver = driver_for(node)
        for volume in volumes:
            driver.ensure_image_volume(volume, DEMO_IMAGE_GIB)
        log(f"demo hypervisor {node.uri} (libvirt test driver, in-process): images {', '.join(volumes)} ready")
