package prime

import (
	"context"
	"crypto/rand"
	"math/big"
	"sync"
)

// extraRounds is the number of Miller–Rabin rounds with random bases that
// IsPrime adds to the Baillie–PSW test beyond 64 bits.
//
// No composite is known to pass Baillie–PSW, but none is proven not to, and
// anyone who knows the code knows which fixed tests it runs. A round with a
// base drawn uniformly from [2, n−2] by crypto/rand is one the submitter of
// n cannot predict, and it passes an odd composite n with probability at most
// 1/4 (Monier; Rabin, 1980) whatever n is. math/big's ProbablyPrime(k) also
// adds k rounds, but it draws their bases from math/rand seeded with the low
// word of n: a fixed function of n that anyone can compute. Each round is
// one modular exponentiation, so four make a check of a prime about twice
// as slow; composites almost never get that far (docs/benchmarks.md).
const extraRounds = 4

// IsPrime reports whether n is prime. Negative numbers, 0 and 1 are not prime.
//
// IsPrime is exact for |n| < 2^64, where it calls IsPrime64 and does not look
// at ctx. Beyond 2^64 it applies trial division, math/big's Baillie–PSW test
// (ProbablyPrime(0)) and then extraRounds Miller–Rabin rounds with bases from
// crypto/rand. A prime always passes; no composite is known that passes the
// Baillie–PSW part alone. Between these rounds it checks ctx, and returns
// ctx's error once ctx is done; it starts no goroutine.
//
// A check of a prime takes time growing as about the cube of the length of n;
// composites mostly fail within the trial division or the first modular
// exponentiation. Callers should cap the length of the numbers they accept.
// IsPrime does not modify n and is safe for concurrent use.
func IsPrime(ctx context.Context, n *big.Int) (bool, error) {
	if n.Sign() <= 0 {
		return false, nil
	}
	if n.BitLen() <= 64 {
		return IsPrime64(n.Uint64()), nil
	}
	if n.Bit(0) == 0 || hasSmallFactor(n) {
		return false, nil
	}
	if err := ctx.Err(); err != nil {
		return false, err
	}
	if !n.ProbablyPrime(0) {
		return false, nil
	}
	return newMRBig(n).randomRounds(ctx, extraRounds)
}

// smallPrimeProduct is the product of the odd primes below bigTrialLimit.
// A gcd with it tells whether n > 2^64 has such a factor, in one operation.
// It is computed on first use, not at package initialisation: every
// function's cold start would pay for it, and only checks beyond 64 bits
// need it.
var smallPrimeProduct = sync.OnceValue(func() *big.Int {
	p := big.NewInt(1)
	for _, t := range makeTrialPrimes(bigTrialLimit) {
		p.Mul(p, big.NewInt(int64(t.p)))
	}
	return p
})

// bigTrialLimit bounds the trial division of IsPrime beyond 64 bits. The gcd
// costs microseconds, far less than a Miller–Rabin round, and it passes on
// about 1 in 7 random odd numbers, where ProbablyPrime's own trial division
// (by the primes up to 53) passes on about 1 in 3.7.
const bigTrialLimit = 2048

// hasSmallFactor reports whether n > 2^64 has an odd prime factor below
// bigTrialLimit. Such a factor is smaller than n, so n is composite.
func hasSmallFactor(n *big.Int) bool {
	var g big.Int
	g.GCD(nil, nil, n, smallPrimeProduct())
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
// [2, n−2] by crypto/rand (see extraRounds for why not math/rand). It checks
// ctx before each round.
func (t *mrBig) randomRounds(ctx context.Context, k int) (bool, error) {
	span := new(big.Int).Sub(t.nm1, bigTwo) // n − 3 values: [0, n−4] + 2
	for range k {
		if err := ctx.Err(); err != nil {
			return false, err
		}
		a, err := rand.Int(rand.Reader, span)
		if err != nil {
			// crypto/rand.Reader does not fail since Go 1.24: it crashes
			// the program instead of returning an error.
			panic("prime: crypto/rand: " + err.Error())
		}
		if !t.strongProbablePrime(a.Add(a, bigTwo)) {
			return false, nil
		}
	}
	return true, nil
}
