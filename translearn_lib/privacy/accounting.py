"""Privacy accounting for DP-SGD: ε of a run, and the noise multiplier σ for a target ε.

One DP-SGD step samples every example independently with probability ``q`` (Poisson sampling),
clips each sampled example's gradient to norm ``C`` and adds Gaussian noise of standard deviation
``σ·C`` to their sum: a *Poisson-sampled Gaussian* event. ``T`` steps compose it ``T`` times. Two
accountants from ``dp-accounting`` turn that into an (ε, δ) guarantee:

* **RDP** (Rényi DP, Mironov 2017): the Rényi divergence of the sampled Gaussian at several orders α
  adds up over steps; ε = min over α of a conversion. :func:`sampled_gaussian_rdp` writes the
  integer-order formula out (Mironov, Talwar & Zhang 2019) so it can be checked against the library;
* **PLD** (privacy loss distributions): composes the whole distribution of the privacy loss
  numerically, so it is tighter.

The conversion from RDP to (ε, δ) matters: ``conversion="classic"`` is Mironov's
ε = RDP(α) + log(1/δ)/(α − 1), which older TF-Privacy tutorials used; ``"improved"`` is the tighter
bound of Balle et al. 2020 / Canonne et al. 2020 that ``dp-accounting`` uses.

Taught in notebooks/09_privacy_and_augmentation.ipynb.
"""

from __future__ import annotations

import contextlib
import logging
import math

import numpy as np

#: RDP orders: fine steps near 1, then integers (what dp-accounting uses by default, plus a few more)
ORDERS = tuple([1 + x / 10.0 for x in range(1, 100)] + list(range(11, 64)) + [128, 256, 512])


def check_dp_params(noise_multiplier=None, l2_norm_clip=None, delta=None, sampling_rate=None,
                    steps=None, epsilon=None) -> None:
    """Raise a ValueError that says how to fix any invalid DP parameter (``None`` = not checked).

    Args:
        noise_multiplier: σ, the noise standard deviation in units of the clip norm; must be > 0.
        l2_norm_clip: C, the per-example gradient norm bound; must be > 0.
        delta: δ, in (0, 1); usually well below 1 / (number of examples).
        sampling_rate: q, in (0, 1]: the probability that an example joins a step's batch.
        steps: number of DP-SGD steps, an integer >= 1.
        epsilon: a target ε, > 0.

    Raises:
        ValueError: the first invalid parameter, with the allowed range.

    Taught in notebooks/09_privacy_and_augmentation.ipynb.
    """
    def bad(value):
        return not isinstance(value, (int, float, np.integer, np.floating)) or not math.isfinite(float(value))

    if noise_multiplier is not None and (bad(noise_multiplier) or noise_multiplier <= 0):
        raise ValueError(f"noise_multiplier must be a finite number > 0, got {noise_multiplier!r}; "
                         "for training without DP do not pass a DP config at all")
    if l2_norm_clip is not None and (bad(l2_norm_clip) or l2_norm_clip <= 0):
        raise ValueError(f"l2_norm_clip must be a finite number > 0, got {l2_norm_clip!r} "
                         "(typical: around the median per-example gradient norm, e.g. 1.0)")
    if delta is not None and (bad(delta) or not 0 < delta < 1):
        raise ValueError(f"delta must be in (0, 1), got {delta!r}; use e.g. 1e-5, below 1 / n_examples")
    if sampling_rate is not None and (bad(sampling_rate) or not 0 < sampling_rate <= 1):
        raise ValueError(f"sampling_rate must be in (0, 1], got {sampling_rate!r}: expected batch size / n_examples")
    if steps is not None and (not isinstance(steps, (int, np.integer)) or steps < 1):
        raise ValueError(f"steps must be an integer >= 1, got {steps!r}")
    if epsilon is not None and (bad(epsilon) or epsilon <= 0):
        raise ValueError(f"target epsilon must be a finite number > 0, got {epsilon!r}")


def dpsgd_event(noise_multiplier: float, sampling_rate: float, steps: int):
    """The ``dp-accounting`` event of ``steps`` Poisson-sampled Gaussian steps.

    Taught in notebooks/09_privacy_and_augmentation.ipynb.
    """
    import dp_accounting

    check_dp_params(noise_multiplier=noise_multiplier, sampling_rate=sampling_rate, steps=steps)
    step = dp_accounting.PoissonSampledDpEvent(float(sampling_rate), dp_accounting.GaussianDpEvent(float(noise_multiplier)))
    return dp_accounting.SelfComposedDpEvent(step, int(steps))


@contextlib.contextmanager
def _quiet():
    # dp-accounting warns when a fractional RDP order does not converge at small σ and drops that
    # order; the remaining orders still give a valid ε, so keep the warning out of the notebooks
    logger = logging.getLogger("absl")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def _accountant(kind: str):
    import dp_accounting

    if kind == "rdp":
        return dp_accounting.rdp.RdpAccountant(list(ORDERS))
    if kind == "pld":
        return dp_accounting.pld.PLDAccountant()
    raise ValueError(f"accountant must be 'rdp' or 'pld', got {kind!r}")


def epsilon(noise_multiplier: float, sampling_rate: float, steps: int, delta: float, accountant: str = "rdp") -> float:
    """ε of a DP-SGD run (Poisson sampling, Gaussian noise) at a given δ.

    Args:
        noise_multiplier: σ (> 0).
        sampling_rate: q = expected batch size / number of examples, in (0, 1].
        steps: number of steps (epochs / q).
        delta: δ in (0, 1).
        accountant: ``"rdp"`` or ``"pld"`` (``dp-accounting``'s ``RdpAccountant`` / ``PLDAccountant``).

    Returns:
        float: the ε the accountant certifies.

    Raises:
        ValueError: an invalid parameter or accountant name.

    Taught in notebooks/09_privacy_and_augmentation.ipynb.
    """
    check_dp_params(noise_multiplier=noise_multiplier, sampling_rate=sampling_rate, steps=steps, delta=delta)
    acc = _accountant(accountant)
    with _quiet():
        acc.compose(dpsgd_event(noise_multiplier, sampling_rate, steps))
        return float(acc.get_epsilon(float(delta)))


def steps_for(epochs: float, sampling_rate: float) -> int:
    """Number of DP-SGD steps in ``epochs`` passes at sampling rate q: ``round(epochs / q)`` (>= 1).

    Taught in notebooks/09_privacy_and_augmentation.ipynb.
    """
    check_dp_params(sampling_rate=sampling_rate)
    if not epochs > 0:
        raise ValueError(f"epochs must be > 0, got {epochs!r}")
    return max(1, int(epochs / sampling_rate))


def noise_for_epsilon(target_epsilon: float, sampling_rate: float, steps: int, delta: float,
                      accountant: str = "rdp", tol: float = 1e-4) -> float:
    """The smallest noise multiplier σ whose run stays within ``target_epsilon`` (bisection on σ).

    ε falls as σ grows, so ``dp_accounting.mechanism_calibration.calibrate_dp_mechanism`` searches
    σ in a bracket that it widens until it holds the answer.

    Args:
        target_epsilon: ε to reach (> 0).
        sampling_rate: q in (0, 1].
        steps: number of steps.
        delta: δ in (0, 1).
        accountant: ``"rdp"`` or ``"pld"``.
        tol: tolerance on σ.

    Returns:
        float: σ with ``epsilon(σ, …) <= target_epsilon`` (within the tolerance).

    Raises:
        ValueError: invalid parameters.

    Taught in notebooks/09_privacy_and_augmentation.ipynb.
    """
    from dp_accounting import mechanism_calibration as mc

    check_dp_params(sampling_rate=sampling_rate, steps=steps, delta=delta, epsilon=target_epsilon)
    _accountant(accountant)  # validates the name before the search
    with _quiet():
        sigma = mc.calibrate_dp_mechanism(lambda: _accountant(accountant),
                                          lambda s: dpsgd_event(s, sampling_rate, steps),
                                          float(target_epsilon), float(delta),
                                          bracket_interval=mc.LowerEndpointAndGuess(1e-3, 1.0), tol=tol)
    return float(sigma)


def sampled_gaussian_rdp(noise_multiplier: float, sampling_rate: float, order: int) -> float:
    """RDP of one Poisson-sampled Gaussian step at an integer order α >= 2, in closed form.

    For neighbours that differ by one example, the output is a mixture ``(1 − q) N(0, σ²) + q N(1, σ²)``
    against ``N(0, σ²)``; its Rényi divergence of order α is ``log(A_α) / (α − 1)`` with
    ``A_α = Σ_k C(α, k) (1 − q)^(α−k) q^k exp((k² − k) / (2σ²))`` (Mironov, Talwar & Zhang 2019).
    Summed in log space so large orders do not overflow.

    Args:
        noise_multiplier: σ (> 0).
        sampling_rate: q in (0, 1].
        order: integer α >= 2.

    Returns:
        float: the RDP ε(α) of a single step (multiply by the number of steps to compose).

    Taught in notebooks/09_privacy_and_augmentation.ipynb.
    """
    from scipy.special import gammaln, logsumexp

    check_dp_params(noise_multiplier=noise_multiplier, sampling_rate=sampling_rate)
    if int(order) != order or order < 2:
        raise ValueError(f"order must be an integer >= 2, got {order!r}")
    a, q, s = int(order), float(sampling_rate), float(noise_multiplier)
    if q == 1.0:
        return a / (2 * s * s)
    k = np.arange(a + 1)
    log_terms = (gammaln(a + 1) - gammaln(k + 1) - gammaln(a - k + 1) + (a - k) * math.log1p(-q)
                 + k * math.log(q) + (k * k - k) / (2 * s * s))
    return float(logsumexp(log_terms) / (a - 1))


def rdp_to_epsilon(orders, rdp, delta: float, conversion: str = "improved") -> tuple[float, float]:
    """Convert composed RDP values to (ε, best order) at δ.

    Args:
        orders: RDP orders α (> 1).
        rdp: composed RDP value at each order.
        delta: δ in (0, 1).
        conversion: ``"classic"`` — ε = RDP(α) + log(1/δ)/(α − 1) (Mironov 2017, Prop. 3);
            ``"improved"`` — ε = RDP(α) + log((α − 1)/α) − (log δ + log α)/(α − 1) (Balle et al. 2020,
            as in ``dp-accounting``).

    Returns:
        tuple: ``(epsilon, order)`` minimising ε.

    Taught in notebooks/09_privacy_and_augmentation.ipynb.
    """
    check_dp_params(delta=delta)
    a, r = np.asarray(orders, dtype=float), np.asarray(rdp, dtype=float)
    if a.shape != r.shape or a.size == 0 or (a <= 1).any():
        raise ValueError("orders and rdp must be non-empty, of equal length, with every order > 1")
    if conversion == "classic":
        eps = r + math.log(1 / delta) / (a - 1)
    elif conversion == "improved":
        eps = r + np.log1p(-1 / a) - (math.log(delta) + np.log(a)) / (a - 1)
    else:
        raise ValueError(f"conversion must be 'classic' or 'improved', got {conversion!r}")
    best = int(np.argmin(eps))
    return max(0.0, float(eps[best])), float(a[best])


def membership_advantage_bound(eps: float, delta: float) -> float:
    """The largest TPR − FPR any membership-inference attack can reach against an (ε, δ)-DP model.

    DP forces ``TPR <= e^ε · FPR + δ`` (and symmetrically for 1 − FPR), so the advantage
    TPR − FPR is at most ``(e^ε − 1 + 2δ) / (e^ε + 1)`` (Kairouz, Oh & Viswanath 2015 / Humphries
    et al. 2020). For ε = 1 that is ≈ 0.46; for ε = 8 it is ≈ 1: the bound says nothing.

    Taught in notebooks/09_privacy_and_augmentation.ipynb.
    """
    check_dp_params(delta=delta)
    if not eps >= 0:
        raise ValueError(f"epsilon must be >= 0, got {eps!r}")
    return float(min(1.0, (math.expm1(eps) + 2 * delta) / (math.exp(eps) + 1)))
