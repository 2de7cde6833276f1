"""``manage.py ensure_cluster NAME``: create a cluster with the default topology if it is missing."""

import contextlib
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from kubeviz.apiserver import bootstrap
from kubeviz.cluster import services
from kubeviz.cluster.topology import TopologySerializer, topology_of


class Command(BaseCommand):
    help = "Create a cluster (default topology) unless one by that name exists."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name")

    def handle(self, *args: Any, name: str, **options: Any) -> None:
        try:
            bootstrap.get_cluster(name)
            self.stdout.write(f"cluster {name!r} exists")
            return
        except bootstrap.NoSuchCluster:
            pass
        ser = TopologySerializer(data={"name": name})
        ser.is_valid(raise_exception=True)
        with contextlib.suppress(bootstrap.ClusterExists):  # created meanwhile by another process
            services.cluster_create(name=name, topology=topology_of(ser.validated_data))
        self.stdout.write(f"cluster {name!r} created")
