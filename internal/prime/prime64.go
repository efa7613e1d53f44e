package prime

import (
	"math"
	"math/bits"
)

// IsPrime64 reports whether n is prime. It is deterministic and exact for
// every uint64 and allocates nothing.
//
// It trial-divides by the odd primes below trialLimit, which settles every
// n < trialLimit² and rejects 77% of random odd numbers at once.
// Larger n below 2^32 get a Miller–Rabin test with the bases 2, 7 and 61 in
// 32-bit Montgomery arithmetic; the rest get a Baillie–PSW test in 64-bit
// Montgomery arithmetic. Both are proven exact in their ranges; see mr32 and
// bpsw64.
func IsPrime64(n uint64) bool {
	if n < 2 {
		return false
	}
	if n&1 == 0 {
		return n == 2
	}
	for _, p := range trialPrimes {
		if n*p.inv <= p.max { // n is a multiple of p; see trialPrime
			return n == uint64(p.p)
		}
	}
	if n < trialLimit*trialLimit {
		return true // no prime factor ≤ √n
	}
	if n <= math.MaxUint32 {
		return mr32(uint32(n))
	}
	return bpsw64(n)
}

// trialLimit bounds the trial division: IsPrime64 tries the 30 odd primes
// below it, about 15 ns. Doubling it would reject 80% of odd numbers
// instead of 77% but double that cost, which every prime pays.
const trialLimit = 128

// trialPrime holds what the division-free divisibility test needs for an odd
// prime p (Granlund and Montgomery, PLDI 1994; Hacker's Delight §10-17).
// Multiplication by inv = p⁻¹ mod 2^64 permutes the uint64s and maps each
// multiple k·p, 0 ≤ k ≤ ⌊(2^64−1)/p⌋, to k. So n is a multiple of p exactly
// when n·inv mod 2^64 ≤ max = ⌊(2^64−1)/p⌋.
type trialPrime struct {
	p   uint32
	inv uint64
	max uint64
}

var trialPrimes = makeTrialPrimes(trialLimit)

// makeTrialPrimes lists the odd primes below limit by trial division.
func makeTrialPrimes(limit uint32) []trialPrime {
	var ps []trialPrime
next:
	for p := uint32(3); p < limit; p += 2 {
		for _, q := range ps {
			if p%q.p == 0 {
				continue next
			}
		}
		ps = append(ps, trialPrime{p: p, inv: inverse64(uint64(p)), max: math.MaxUint64 / uint64(p)})
	}
	return ps
}

// mr32 reports whether the odd n, trialLimit² ≤ n < 2^32, is prime: a strong
// probable prime to the bases 2, 7 and 61. G. Jaeschke (Math. Comp. 61
// (1993) 915–926) showed that the least composite strong pseudoprime to all
// three is 4759123141 > 2^32. The bases are below n, so none is ≡ 0 (mod n).
//
// The three powers share the exponent, so they are computed in one loop:
// their multiplications are independent and the processor overlaps them,
// which makes the three rounds cost little more than one.
func mr32(n uint32) bool {
	m := newMont32(n)
	s := bits.TrailingZeros32(n - 1)
	d := (n - 1) >> s
	a2, a7, a61 := m.mul(2, m.r2), m.mul(7, m.r2), m.mul(61, m.r2) // toMont
	x2, x7, x61 := m.one, m.one, m.one
	for i := bits.Len32(d) - 1; i >= 0; i-- {
		x2, x7, x61 = m.mul(x2, x2), m.mul(x7, x7), m.mul(x61, x61)
		if d>>i&1 != 0 {
			x2, x7, x61 = m.mul(x2, a2), m.mul(x7, a7), m.mul(x61, a61)
		}
	}
	return m.strongProbablePrime(x2, s) && m.strongProbablePrime(x7, s) &&
		m.strongProbablePrime(x61, s)
}

// strongProbablePrime is mont64.strongProbablePrime for mont32.
func (m *mont32) strongProbablePrime(x uint32, s int) bool {
	minusOne := m.n - m.one
	if x == m.one || x == minusOne {
		return true
	}
	for range s - 1 {
		x = m.mul(x, x)
		if x == minusOne {
			return true
		}
		if x == m.one {
			return false
		}
	}
	return false
}

// bpsw64 reports whether the odd n ≥ trialLimit², which has no prime factor
// below trialLimit, is prime, by the Baillie–PSW test: a strong probable
// prime test to base 2 followed by a strong Lucas probable prime test with
// Selfridge's parameters (method A).
//
// No composite below 2^64 passes: J. Feitsma and W. Galway listed every base-2
// Fermat pseudoprime below 2^64, and J. Gilchrist checked that none is also a
// strong Lucas probable prime (reported in R. Baillie, A. Fiori and
// S. S. Wagstaff, "Strengthening the Baillie-PSW primality test", Math. Comp.
// 90 (2021) 1931–1955; D. Jacobsen repeated the check for the Lucas variants).
// The tests also compare bpsw64 with an independent proven Miller–Rabin base
// set (mr7) on many inputs.
//
// On a prime it does about 64 squarings for the base-2 test and 4·64
// independent multiplications for the Lucas test, which run about twice as
// fast as dependent ones; the seven-base test does 7·64 squarings and ~7·32
// multiplications, all dependent. See BenchmarkIsPrime for the timings.
func bpsw64(n uint64) bool {
	m := newMont64(n)
	s := bits.TrailingZeros64(n - 1)
	d := (n - 1) >> s
	return m.strongProbablePrime(m.pow2(d), s) && m.strongLucas()
}

// strongProbablePrime finishes a Miller–Rabin round for n − 1 = d·2^s, d odd,
// given x = a^d in Montgomery form. If n is prime, the sequence
// a^d, a^2d, …, a^(2^s·d) = a^(n−1) ends in 1 (Fermat), and because the only
// square roots of 1 modulo a prime are ±1, either a^d ≡ 1 or some a^(2^r·d)
// ≡ −1 with r < s. A composite n that still passes is a strong pseudoprime
// to base a.
func (m *mont64) strongProbablePrime(x uint64, s int) bool {
	minusOne := m.n - m.one
	if x == m.one || x == minusOne {
		return true
	}
	for range s - 1 {
		x = m.mul(x, x)
		if x == minusOne {
			return true
		}
		if x == m.one {
			return false // a nontrivial square root of 1: n is composite
		}
	}
	return false
}

// pow2 returns 2^e in Montgomery form; multiplying by 2 is an addition, so
// only the squarings cost a multiplication.
func (m *mont64) pow2(e uint64) uint64 {
	r := m.one
	for i := bits.Len64(e) - 1; i >= 0; i-- {
		r = m.mul(r, r)
		if e>>i&1 != 0 {
			r = m.add(r, r)
		}
	}
	return r
}

// cswap returns (x, y) if b == 0 and (y, x) if b == 1, without a branch.
func cswap(b, x, y uint64) (uint64, uint64) {
	t := (x ^ y) & -b
	return x ^ t, y ^ t
}

// strongLucas reports whether the odd n = m.n > 1 is a strong Lucas probable
// prime for Selfridge's parameters (method A): D is the first of
// 5, −7, 9, −11, 13, … with Jacobi symbol (D/n) = −1, P = 1, Q = (1 − D)/4.
//
// For a prime n with (D/n) = −1, the Lucas sequence U_k(P, Q) satisfies
// U_(n+1) ≡ 0 (mod n), and with n + 1 = d·2^s, d odd, the same square-root
// argument as in Miller–Rabin gives U_d ≡ 0 or V_(d·2^r) ≡ 0 for some r < s
// (Baillie and Wagstaff, "Lucas pseudoprimes", Math. Comp. 35 (1980), §5).
func (m *mont64) strongLucas() bool {
	n := m.n
	d64 := int64(5)
	for i := 0; ; i++ {
		j := jacobi(d64, n)
		if j == -1 {
			break
		}
		absD := uint64(max(d64, -d64))
		if j == 0 && absD%n != 0 {
			return false // 1 < gcd(|D|, n) < n: a proper factor
		}
		// A square n has (D/n) ≠ −1 for every D, so check for one once the
		// search runs longer than it does for almost all non-squares.
		if i == 8 && isSquare64(n) {
			return false
		}
		if d64 > 0 {
			d64 = -d64 - 2
		} else {
			d64 = -d64 + 2
		}
	}
	q64 := (1 - d64) / 4
	// The theory also asks for gcd(n, Q) = 1, but with P = 1 a common prime
	// factor p of n and Q makes the test fail by itself, as it should:
	// U_k = P·U_(k−1) − Q·U_(k−2) ≡ U_(k−1) (mod p), so U_k ≡ U_1 = 1 and
	// likewise V_k ≡ V_1 = 1 (mod p) for every k ≥ 1, and no U_d or V_(d·2^r)
	// below can be ≡ 0 (mod n).
	q := m.toMont(uint64(max(q64, -q64)))
	if q64 < 0 {
		q = m.sub(0, q)
	}

	// n + 1 does not overflow: n ≤ 2^64 − 3 because 2^64 − 1 = 3·5·17·257·…
	// was rejected by trial division.
	s := bits.TrailingZeros64(n + 1)
	d := (n + 1) >> s

	// Walk k from 1 up to d along the bits of d, keeping the pairs
	// (V_k, V_(k+1)) and (Q^k, Q^(k+1)), with P = 1:
	//	V_2k   = V_k² − 2Q^k
	//	V_2k+1 = V_k·V_(k+1) − P·Q^k
	//	V_2k+2 = V_(k+1)² − 2Q^(k+1)
	// which follow from V_(a+b) = V_a·V_b − Q^b·V_(a−b) and V_0 = 2. A 0 bit
	// moves to the pairs at 2k, a 1 bit to those at 2k + 1. Both steps are
	// one code path: the bit swaps the inputs of the squarings and the
	// outputs (a Montgomery ladder), so there is no data-dependent branch to
	// mispredict, and the four multiplications are independent, so the
	// processor overlaps them.
	v, v1 := m.one, m.sub(m.one, m.add(q, q)) // V_1 = P, V_2 = P² − 2Q
	qk, qk1 := q, m.mul(q, q)                 // Q^1, Q^2
	for i := bits.Len64(d) - 2; i >= 0; i-- {
		b := d >> i & 1
		w := m.sub(m.mul(v, v1), qk) // V_2k+1
		qw := m.mul(qk, qk1)         // Q^(2k+1)
		x, _ := cswap(b, v, v1)      // V_k or V_(k+1)
		y, _ := cswap(b, qk, qk1)    // Q^k or Q^(k+1)
		z := m.sub(m.mul(x, x), m.add(y, y))
		y2 := m.mul(y, y)
		v, v1 = cswap(b, z, w)
		qk, qk1 = cswap(b, y2, qw)
	}
	// Now v = V_d, v1 = V_(d+1) and qk = Q^d. Since D·U_k = 2·V_(k+1) − P·V_k
	// and D is invertible mod n ((D/n) = −1), U_d ≡ 0 iff 2·V_(d+1) ≡ V_d.
	if v == 0 || m.add(v1, v1) == v {
		return true
	}
	for range s - 1 {
		v = m.sub(m.mul(v, v), m.add(qk, qk)) // V_2k = V_k² − 2Q^k
		if v == 0 {
			return true
		}
		qk = m.mul(qk, qk)
	}
	return false
}

// jacobi returns the Jacobi symbol (a/n) for odd n, by the binary algorithm:
// (2/n) = −1 iff n ≡ ±3 (mod 8), (−1/n) = −1 iff n ≡ 3 (mod 4), and
// quadratic reciprocity (a/n) = (n/a)·(−1)^((a−1)/2·(n−1)/2) for odd a.
func jacobi(a int64, n uint64) int {
	j := 1
	x := uint64(a)
	if a < 0 {
		x = uint64(-a)
		if n&3 == 3 {
			j = -j
		}
	}
	x %= n
	for x != 0 {
		tz := bits.TrailingZeros64(x)
		x >>= tz
		if tz&1 == 1 && (n&7 == 3 || n&7 == 5) {
			j = -j
		}
		if x&3 == 3 && n&3 == 3 {
			j = -j
		}
		x, n = n%x, x
	}
	if n != 1 {
		return 0
	}
	return j
}

// isSquare64 reports whether n is a perfect square.
func isSquare64(n uint64) bool {
	// The float64 square root is within 1 of ⌊√n⌋ for every uint64.
	r := uint64(math.Sqrt(float64(n)))
	for c := max(r, 1) - 1; c <= r+1; c++ {
		if c <= math.MaxUint32 && c*c == n {
			return true
		}
	}
	return false
}
