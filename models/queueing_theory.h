/*
 * Closed forms of queueing theory, to validate the simulated stations
 * against: Erlang B and C, the M/M/c waiting time and its tail, the
 * Pollaczek-Khinchine mean wait of M/G/1 (M/D/1 included), and blocking in
 * M/M/1/K.
 *
 * Notation: lambda is the arrival rate (jobs per second), mu the service
 * rate of one server (1 / mean service time), c the number of servers and
 * a = lambda / mu the offered load in Erlangs.  Times are in seconds.
 * Functions return NAN for parameters outside their domain (for example
 * an unstable queue, a <= 0 or c < 1), so a caller can print the value
 * without a separate check.
 */
#ifndef MAILSIM_QUEUEING_THEORY_H
#define MAILSIM_QUEUEING_THEORY_H

#include "sim/dist.h"

/* Erlang B: the probability that an arrival finds all c servers busy in
 * M/G/c/c (no waiting room), which depends on the service time only
 * through its mean.  Computed with the recursion
 * B(0) = 1, B(n) = a B(n-1) / (n + a B(n-1)), which needs no factorials. */
double queueing_theory_erlang_b(int servers, double offered_load);

/* Erlang C: the probability that an arrival has to wait in M/M/c,
 * C = c B / (c - a (1 - B)) with B = Erlang B; requires a < c. */
double queueing_theory_erlang_c(int servers, double offered_load);

/* M/M/c mean waiting time in the queue, Wq = C / (c mu - lambda). */
double queueing_theory_mmc_wait(int servers, double arrival_rate,
                                double service_rate);

/* M/M/c mean sojourn time (wait plus service), W = Wq + 1 / mu. */
double queueing_theory_mmc_sojourn(int servers, double arrival_rate,
                                   double service_rate);

/* M/M/c probability that the wait exceeds `threshold` seconds (FIFO),
 * P(Wq > t) = C exp(-(c mu - lambda) t). */
double queueing_theory_mmc_wait_exceeds(int servers, double arrival_rate,
                                        double service_rate, double threshold);

/* M/G/1 mean waiting time by the Pollaczek-Khinchine formula,
 * Wq = lambda E[S^2] / (2 (1 - rho)) with rho = lambda E[S].  M/D/1 is the
 * case E[S^2] = E[S]^2, and M/M/1 the case E[S^2] = 2 E[S]^2. */
double queueing_theory_mg1_wait(double arrival_rate, double service_mean,
                                double service_second_moment);

/* M/M/1/K: the probability that an arrival finds the system full, with K
 * the places in the system (the one in service plus K - 1 waiting):
 * P_K = (1 - rho) rho^K / (1 - rho^(K+1)), and 1 / (K + 1) at rho = 1.
 * Any rho > 0 is allowed, because a finite queue is always stable. */
double queueing_theory_mm1k_blocking(double arrival_rate, double service_rate,
                                     int places);

/* E[X^2] of a distribution as sampled by dist_sample: INFINITY for Pareto
 * with shape <= 2.  For the lognormal, E[X^2] = exp(2 mu + 2 sigma^2). */
double queueing_theory_second_moment(const struct dist *dist);

/* Squared coefficient of variation Var(X) / E[X]^2: 0 for a constant, 1
 * for the exponential.  NAN when the mean is 0. */
double queueing_theory_scv(const struct dist *dist);

#endif
