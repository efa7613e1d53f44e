package prime

import (
	"crypto/rand"
	"math/big"
)

// extraRounds is the number of Miller–Rabin rounds with random bases that
// IsPrime adds to the Baillie–PSW test beyond 64 bits.
//
// No composite is known to pass Baillie–PSW, but none is proven not to, and
// anyone who knows the code knows which fixed tests it runs. A round with a
// base drawn uniformly from [2, n−2] by crypto/rand is one the submitter of
// n cannot predict, and it passes an odd composite n with probability at most
// 1/4 (Monier; Rabin, 1980) whatever n is.
//
// Each round is one modular exponentiation, about a third of the
// Baillie–PSW test on a prime, so four rounds make a check of a prime about
// 2.3 times as slow; composites almost never get that far. Medians on a
// shared 2-core 2.1 GHz AMD EPYC, in milliseconds for a prime:
//
//	digits   IsPrime   Baillie–PSW   one round   ProbablyPrime(0)
//	   500        15             8           2                  7
//	  1000       102            46          12                 42
//	  1500       340           171          42                128
//	  2000       648           289          91                266
//	  2500      1254           531         184                486
//	  3000      2389           925         312                850
//
// The time grows as about the 2.8th power of the length: a cap of 2000
// digits keeps every check well under a second. With two rounds instead of
// four, 2500 digits would take about 0.9 s.
const extraRounds = 4

// IsPrime reports whether n is prime. Negative numbers, 0 and 1 are not prime.
//
// IsPrime is exact for |n| < 2^64, where it calls IsPrime64. Beyond 2^64 it
// applies trial division, the Baillie–PSW test (a base-2 Miller–Rabin round
// and strongLucasBig) and then extraRounds Miller–Rabin rounds with bases
// from crypto/rand. A prime always passes; no composite is known that passes
// the Baillie–PSW part alone.
//
// IsPrime takes time roughly cubic in the length of n when n is prime (or a
// strong pseudoprime to base 2); composites mostly fail within the first
// modular exponentiation or the trial division. It does not modify n and is
// safe for concurrent use.
func IsPrime(n *big.Int) bool {
	return isPrimeBig(n, extraRounds)
}

// isPrimeBig is IsPrime with the given number of random rounds.
func isPrimeBig(n *big.Int, rounds int) bool {
	if n.Sign() <= 0 {
		return false
	}
	if n.BitLen() <= 64 {
		return IsPrime64(n.Uint64())
	}
	if n.Bit(0) == 0 || hasSmallFactor(n) {
		return false
	}
	t := newMRBig(n)
	return t.strongProbablePrime(bigTwo) && strongLucasBig(n) && t.randomRounds(rounds)
}

// Why not n.ProbablyPrime(extraRounds) from math/big? It also applies
// Baillie–PSW and random-base Miller–Rabin rounds, but it seeds math/rand
// with the low word of n, so its "random" bases are a fixed function of n
// that anyone can compute. Its Lucas part is the almost-extra-strong test
// with Q = 1 rather than Selfridge's strong test: two multiplications per
// bit against three here, which makes ProbablyPrime(0) up to 1.45 times as
// fast as our Baillie–PSW test on 1024- to 4096-bit primes, and
// ProbablyPrime(4) about 20% faster than IsPrime (see BenchmarkIsPrime).
// We accept that for unpredictable bases, for the Lucas variant that the
// 64-bit code shares, and because it keeps math/big an independent
// reference for the tests.

// smallPrimeProduct is the product of the odd primes below bigTrialLimit.
// A gcd with it tells whether n > 2^64 has such a factor, in one operation.
var smallPrimeProduct = func() *big.Int {
	p := big.NewInt(1)
	for _, t := range makeTrialPrimes(bigTrialLimit) {
		p.Mul(p, big.NewInt(int64(t.p)))
	}
	return p
}()

// bigTrialLimit bounds the trial division of IsPrime beyond 64 bits. The gcd
// costs microseconds while a Miller–Rabin round on a 1024-bit number costs
// about a millisecond, and it leaves about 1 in 13 random odd numbers instead
// of 1 in 8 for trialLimit.
const bigTrialLimit = 2048

// hasSmallFactor reports whether n > 2^64 has an odd prime factor below
// bigTrialLimit. Such a factor is smaller than n, so n is composite.
func hasSmallFactor(n *big.Int) bool {
	var g big.Int
	g.GCD(nil, nil, n, smallPrimeProduct)
	return g.Cmp(bigOne) != 0
}

var (
	bigOne = big.NewInt(1)
	bigTwo = big.NewInt(2)
)

// mrBig holds n − 1 = d·2^s for Miller–Rabin rounds on an odd n > 3.
type mrBig struct {
	n, nm1, d *big.Int
	s         uint
}

func newMRBig(n *big.Int) *mrBig {
	nm1 := new(big.Int).Sub(n, bigOne)
	s := nm1.TrailingZeroBits()
	return &mrBig{n: n, nm1: nm1, d: new(big.Int).Rsh(nm1, s), s: s}
}

// strongProbablePrime runs one Miller–Rabin round with base a, 1 < a < n − 1;
// see mont64.strongProbablePrime for why a prime always passes.
func (t *mrBig) strongProbablePrime(a *big.Int) bool {
	x := new(big.Int).Exp(a, t.d, t.n)
	if x.Cmp(bigOne) == 0 || x.Cmp(t.nm1) == 0 {
		return true
	}
	var sq, quo big.Int
	for range t.s - 1 {
		sq.Mul(x, x)
		quo.QuoRem(&sq, t.n, x)
		if x.Cmp(t.nm1) == 0 {
			return true
		}
		if x.Cmp(bigOne) == 0 {
			return false // a nontrivial square root of 1
		}
	}
	return false
}

// randomRounds runs k Miller–Rabin rounds with bases drawn uniformly from
// [2, n−2] by crypto/rand (see extraRounds for why not math/rand).
func (t *mrBig) randomRounds(k int) bool {
	span := new(big.Int).Sub(t.nm1, bigTwo) // n − 3 values: [0, n−4] + 2
	for range k {
		a, err := rand.Int(rand.Reader, span)
		if err != nil {
			// crypto/rand.Reader does not fail since Go 1.24: it crashes
			// the program instead of returning an error.
			panic("prime: crypto/rand: " + err.Error())
		}
		if !t.strongProbablePrime(a.Add(a, bigTwo)) {
			return false
		}
	}
	return true
}
