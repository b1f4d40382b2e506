"""
The rotisserie pytest plugin: a fixture that runs vendor simulators.

Registered through the ``pytest11`` entry point, so installing rotisserie
makes the fixture available everywhere. aiohttp is imported only when the
fixture is used, so the plugin loads where the ``testing`` extra is missing.

Example::

    from rotisserie.testing import Limit

    def test_client_rotates(rotisserie_simulator):
        sim = rotisserie_simulator(keys={"k1": Limit(5, 1.0), "k2": None})
        response = requests.get(sim.url + "/v1/x", headers={"Authorization": "Bearer k1"})
        assert sim.stats()["k1"].granted == 1

.. versionadded:: 0.2.0
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

from rotisserie.testing._factory import SimulatorFactory

if TYPE_CHECKING:
    from rotisserie.testing._simulator import Simulator

__all__ = ["rotisserie_simulator"]


@pytest.fixture
def rotisserie_simulator() -> Iterator[SimulatorFactory]:
    """
    Return a factory that builds and starts simulators on background threads.

    Call it with the arguments of :class:`rotisserie.testing.Simulator`; it
    returns the running simulator (use ``sim.url``). Every simulator made by
    the factory is stopped when the test ends, in reverse order.
    """
    from rotisserie.testing import Simulator

    started: list[Simulator] = []

    # Untyped on purpose: the SimulatorFactory protocol gives callers the full
    # signature, and Simulator itself checks every argument at run time.
    def factory(*args: Any, **kwargs: Any) -> Simulator:
        sim = Simulator(*args, **kwargs)
        started.append(sim)
        sim.start()
        return sim

    yield factory
    for sim in reversed(started):
        sim.stop()
