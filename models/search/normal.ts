/**
 * Normal-distribution arithmetic for the Parzen estimators: the standard
 * normal CDF and its logarithm, probability mass of an interval, its
 * inverse, and a truncated normal (log density and inverse-CDF sampling).
 *
 * Accuracy: erfc is the Chebyshev fit from Numerical Recipes (relative error
 * below 1.2e-7 everywhere, tails included) and the inverse CDF is Acklam's
 * rational approximation (relative error below 1.2e-9). TPE only compares
 * log densities of candidates against each other, so seven digits are ample;
 * what matters is that nothing underflows to log(0) in the tails, hence the
 * log-space forms below.
 */

const LOG_SQRT_2PI = 0.5 * Math.log(2 * Math.PI);
const SQRT1_2 = Math.SQRT1_2;

/** log(erfc(z)) for z ≥ 0, without underflow for large z. */
function logErfcNonNegative(z: number): number {
  const t = 1 / (1 + 0.5 * z);
  const poly =
    -1.26551223 +
    t *
      (1.00002368 +
        t *
          (0.37409196 +
            t *
              (0.09678418 +
                t *
                  (-0.18628806 +
                    t *
                      (0.27886807 +
                        t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))));
  return Math.log(t) - z * z + poly;
}

export function erfc(x: number): number {
  const tail = Math.exp(logErfcNonNegative(Math.abs(x)));
  return x >= 0 ? tail : 2 - tail;
}

/** Standard normal CDF Φ(x). */
export function normalCdf(x: number): number {
  return 0.5 * erfc(-x * SQRT1_2);
}

/** log Φ(x), finite far into the lower tail. */
export function logNormalCdf(x: number): number {
  if (x < 0) return Math.log(0.5) + logErfcNonNegative(-x * SQRT1_2);
  return Math.log1p(-0.5 * erfc(x * SQRT1_2));
}

/** log(1 − e^d) for d ≤ 0 (Mächler's split keeps both halves accurate). */
function log1mExp(d: number): number {
  return d > -Math.LN2 ? Math.log(-Math.expm1(d)) : Math.log1p(-Math.exp(d));
}

/** log(Φ(b) − Φ(a)) for a ≤ b: the log probability that a standard normal falls in [a, b]. */
export function logNormalMass(a: number, b: number): number {
  if (b <= 0) return logNormalCdf(b) + log1mExp(logNormalCdf(a) - logNormalCdf(b));
  if (a >= 0) return logNormalCdf(-a) + log1mExp(logNormalCdf(-b) - logNormalCdf(-a));
  // Straddles 0: the two excluded tails are each below one half, so no cancellation.
  return Math.log1p(-normalCdf(a) - normalCdf(-b));
}

// Acklam's coefficients for the inverse normal CDF.
const A = [
  -3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1,
  2.506628277459239,
];
const B = [
  -5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1,
];
const C = [
  -7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968,
  2.938163982698783,
];
const D = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
const P_LOW = 0.02425;

/** Φ⁻¹(p), the standard normal quantile; ±Infinity at 0 and 1. */
export function normalQuantile(p: number): number {
  if (p <= 0) return Number.NEGATIVE_INFINITY;
  if (p >= 1) return Number.POSITIVE_INFINITY;
  if (p < P_LOW) return lowerTailQuantile(p);
  if (p > 1 - P_LOW) return -lowerTailQuantile(1 - p);
  const q = p - 0.5;
  const r = q * q;
  const num = (((((A[0]! * r + A[1]!) * r + A[2]!) * r + A[3]!) * r + A[4]!) * r + A[5]!) * q;
  const den = ((((B[0]! * r + B[1]!) * r + B[2]!) * r + B[3]!) * r + B[4]!) * r + 1;
  return num / den;
}

function lowerTailQuantile(p: number): number {
  const q = Math.sqrt(-2 * Math.log(p));
  const num = ((((C[0]! * q + C[1]!) * q + C[2]!) * q + C[3]!) * q + C[4]!) * q + C[5]!;
  const den = (((D[0]! * q + D[1]!) * q + D[2]!) * q + D[3]!) * q + 1;
  return num / den;
}

/**
 * A normal N(mu, sigma²) truncated to [low, high]. The normalising mass is
 * computed once, since an estimator evaluates each kernel many times.
 */
export class TruncatedNormal {
  readonly mu: number;
  readonly sigma: number;
  readonly low: number;
  readonly high: number;
  /** log(Φ(β) − Φ(α)) with α, β the standardised bounds. */
  private readonly logMass: number;

  constructor(mu: number, sigma: number, low: number, high: number) {
    this.mu = mu;
    this.sigma = Math.max(sigma, 1e-12);
    this.low = low;
    this.high = high;
    this.logMass = logNormalMass(this.standardise(low), this.standardise(high));
  }

  /** Log density at x; −Infinity outside [low, high]. */
  logPdf(x: number): number {
    if (x < this.low || x > this.high) return Number.NEGATIVE_INFINITY;
    const z = this.standardise(x);
    return -0.5 * z * z - LOG_SQRT_2PI - Math.log(this.sigma) - this.logMass;
  }

  /** Log probability of [from, to] (clipped to the support) — the mass of one grid bin. */
  logMassBetween(from: number, to: number): number {
    const a = Math.max(from, this.low);
    const b = Math.min(to, this.high);
    if (!(a < b)) return Number.NEGATIVE_INFINITY;
    return logNormalMass(this.standardise(a), this.standardise(b)) - this.logMass;
  }

  /**
   * Inverse-CDF draw from a uniform u in [0, 1). Works on the side of the
   * mode where the CDF values are small, so bounds deep in a tail keep their
   * precision.
   */
  sample(u: number): number {
    const a = this.standardise(this.low);
    const b = this.standardise(this.high);
    let z: number;
    if (a >= 0) {
      // Mirror: draw from [−b, −a] in the lower tail and flip back.
      const lo = normalCdf(-b);
      z = -normalQuantile(lo + (1 - u) * (normalCdf(-a) - lo));
    } else {
      const lo = normalCdf(a);
      z = normalQuantile(lo + u * (normalCdf(b) - lo));
    }
    if (!Number.isFinite(z)) z = this.standardise(Math.min(this.high, Math.max(this.low, this.mu)));
    return Math.min(this.high, Math.max(this.low, this.mu + this.sigma * z));
  }

  private standardise(x: number): number {
    return (x - this.mu) / this.sigma;
  }
}
