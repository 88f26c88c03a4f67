"""M/M/c benchmark, SimPy's side: the model of tests/bench/mmc.c in SimPy.

Debian 12 packages SimPy 2.3.1 (python3-simpy), whose classic API runs
generator processes with `yield hold`, `yield request` and `yield release`.
The model matches mailsim's queue model: Poisson arrivals from time 0
until warmup + duration, exponential service, `servers` identical servers
in front of one FIFO queue, and the run goes on until every job has left.
Arrivals and service draw from two random.Random generators (MT19937, as
GSL's mt19937 on mailsim's side, though the streams differ).

Usage: mmc_simpy.py ARRIVAL_RATE SERVICE_MEAN SERVERS WARMUP DURATION SEED
(rates per second, times in seconds).  Prints one line:
  simpy events=N cpu_seconds=S events_per_second=R wait_mean=W
where N counts arrivals and departures and W is the mean wait of the jobs
that arrived after the warmup.
"""

import random
import sys
import time

from SimPy.Simulation import (Process, Resource, activate, hold, initialize,
                              now, release, request, simulate)


class Counts:
    """Arrivals, departures and waits of measured jobs."""

    def __init__(self):
        self.arrivals = 0
        self.departures = 0
        self.measured = 0
        self.wait_sum = 0.0


class Job(Process):
    """One customer: waits for a server, is served, leaves."""

    def visit(self, servers, service_rate, rng, counts, measured):
        arrived = now()
        yield request, self, servers
        if measured:
            counts.measured += 1
            counts.wait_sum += now() - arrived
        yield hold, self, rng.expovariate(service_rate)
        yield release, self, servers
        counts.departures += 1


class Source(Process):
    """Poisson arrivals until `end`."""

    def generate(self, arrival_rate, service_rate, servers, warmup, end,
                 rngs, counts):
        arrival_rng, service_rng = rngs
        while True:
            yield hold, self, arrival_rng.expovariate(arrival_rate)
            if now() >= end:
                return
            counts.arrivals += 1
            job = Job()
            activate(job, job.visit(servers, service_rate, service_rng,
                                    counts, now() >= warmup))


def main(argv):
    if len(argv) != 7:
        sys.exit("usage: mmc_simpy.py ARRIVAL_RATE SERVICE_MEAN SERVERS "
                 "WARMUP DURATION SEED")
    arrival_rate = float(argv[1])
    service_rate = 1.0 / float(argv[2])
    server_count = int(argv[3])
    warmup = float(argv[4])
    end = warmup + float(argv[5])
    seed = int(argv[6])

    initialize()
    counts = Counts()
    servers = Resource(capacity=server_count)
    source = Source()
    rngs = (random.Random(seed), random.Random(seed + 1))
    activate(source, source.generate(arrival_rate, service_rate, servers,
                                     warmup, end, rngs, counts))
    start = time.process_time()
    simulate(until=float("inf"))
    elapsed = time.process_time() - start

    events = counts.arrivals + counts.departures
    wait_mean = counts.wait_sum / counts.measured if counts.measured else 0.0
    print("simpy events=%d cpu_seconds=%.3f events_per_second=%.0f "
          "wait_mean=%.4f" % (events, elapsed, events / elapsed, wait_mean))


if __name__ == "__main__":
    main(sys.argv)
