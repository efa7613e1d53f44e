package prime

import "math/bits"

// mr7 is an alternative to bpsw64 for odd n with no prime factor below
// trialLimit: a strong probable prime test to seven bases that J. Sinclair
// found (2011) to leave no composite below 2^64; see
// https://miller-rabin.appspot.com. A base ≡ 0 (mod n) counts as passed,
// the convention under which the set was verified. It is kept to cross-check
// bpsw64 in the tests and to compare speeds in the benchmarks.
func mr7(n uint64) bool {
	m := newMont64(n)
	s := bits.TrailingZeros64(n - 1)
	d := (n - 1) >> s
	for _, a := range [...]uint64{2, 325, 9375, 28178, 450775, 9780504, 1795265022} {
		if a%n == 0 {
			continue
		}
		if !m.strongProbablePrime(m.pow(m.toMont(a), d), s) {
			return false
		}
	}
	return true
}

// pow returns a^e in Montgomery form, by left-to-right binary powering.
func (m *mont64) pow(a, e uint64) uint64 {
	r := m.one
	for i := bits.Len64(e) - 1; i >= 0; i-- {
		r = m.mul(r, r)
		if e>>i&1 != 0 {
			r = m.mul(r, a)
		}
	}
	return r
}
