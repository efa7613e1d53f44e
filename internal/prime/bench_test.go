package prime

import (
	"fmt"
	"math/big"
	"math/rand/v2"
	"sync"
	"syscall"
	"testing"
	"time"
)

// BenchmarkIsPrime compares, for each input, this package with math/big's
// ProbablyPrime(0) (a Baillie–PSW test), with alternatives kept for
// comparison, and on small inputs with plain trial division. The inputs are
// deterministic; slices of 1024 numbers are cycled through. Run with
//
//	go test -run '^$' -bench IsPrime ./internal/prime/
func BenchmarkIsPrime(b *testing.B) {
	for _, in := range benchInputs64 {
		b.Run(in.name, func(b *testing.B) {
			ns := in.gen()
			bigs := make([]*big.Int, len(ns))
			for i, n := range ns {
				bigs[i] = new(big.Int).SetUint64(n)
			}
			b.Run("ours", func(b *testing.B) { bench64(b, ns, IsPrime64) })
			b.Run("mr7", func(b *testing.B) { bench64(b, ns, isPrime64MR7) })
			b.Run("bigProbablyPrime0", func(b *testing.B) {
				benchBig(b, bigs, func(n *big.Int) bool { return n.ProbablyPrime(0) })
			})
			if in.trial {
				b.Run("trialDivision", func(b *testing.B) { bench64(b, ns, trialDivision) })
			}
		})
	}
	for _, in := range benchInputsBig {
		b.Run(in.name, func(b *testing.B) {
			ns := []*big.Int{in.gen()}
			b.Run("ours", func(b *testing.B) { benchBig(b, ns, isPrime) })
			b.Run("bigProbablyPrime0", func(b *testing.B) {
				benchBig(b, ns, func(n *big.Int) bool { return n.ProbablyPrime(0) })
			})
			b.Run(fmt.Sprintf("bigProbablyPrime%d", extraRounds), func(b *testing.B) {
				benchBig(b, ns, func(n *big.Int) bool { return n.ProbablyPrime(extraRounds) })
			})
		})
	}
}

func bench64(b *testing.B, ns []uint64, isPrime func(uint64) bool) {
	b.ReportAllocs()
	count := 0
	i := 0
	for b.Loop() {
		if isPrime(ns[i]) {
			count++
		}
		i = (i + 1) % len(ns)
	}
	sink = count
}

// benchBig also reports the process's CPU time per operation (cpu-ns/op),
// which a machine shared with other work disturbs less than the wall clock.
func benchBig(b *testing.B, ns []*big.Int, isPrime func(*big.Int) bool) {
	b.ReportAllocs()
	count := 0
	i := 0
	cpu0 := cpuTime()
	for b.Loop() {
		if isPrime(ns[i]) {
			count++
		}
		i = (i + 1) % len(ns)
	}
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
	sink = count
}

// cpuTime returns the user and system CPU time the process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

var sink int

// benchInputs64 are the 64-bit inputs; trial marks those small enough for
// trialDivision.
var benchInputs64 = []struct {
	name  string
	gen   func() []uint64
	trial bool
}{
	{"random64-prime", func() []uint64 { return randomPrimes64(1<<63, 1024) }, false},
	{"random64-composite", randomComposites64, false},
	{"random32-prime", func() []uint64 { return randomPrimes64(1<<31, 1024) }, false},
	{"mersenne61", func() []uint64 { return []uint64{1<<61 - 1} }, false},
	{"1e9-prime", func() []uint64 { return []uint64{1_000_000_007} }, true},
	{"1e12-prime", func() []uint64 { return []uint64{1_000_000_000_039} }, true},
}

// benchInputsBig are primes of the sizes the API accepts beyond 64 bits (up
// to task.MaxDigits), and a product of two primes (which fails the first
// Miller–Rabin round), generated once on first use.
var benchInputsBig = []struct {
	name string
	gen  func() *big.Int
}{
	{"100digit-prime", sync.OnceValue(func() *big.Int { return randomPrimeDigits(100) })},
	{"300digit-prime", sync.OnceValue(func() *big.Int { return randomPrimeDigits(300) })},
	{"500digit-prime", sync.OnceValue(func() *big.Int { return randomPrimeDigits(500) })},
	{"1000digit-prime", sync.OnceValue(func() *big.Int { return randomPrimeDigits(1000) })},
	{"1000digit-semiprime", sync.OnceValue(func() *big.Int {
		return new(big.Int).Mul(randomPrimeDigits(500), randomPrimeDigits(501))
	})},
}

// randomPrimes64 returns count primes drawn uniformly from [lo, 2·lo).
func randomPrimes64(lo uint64, count int) []uint64 {
	r := rand.New(rand.NewPCG(1, lo))
	var ps []uint64
	for len(ps) < count {
		n := lo + r.Uint64N(lo)
		if new(big.Int).SetUint64(n).ProbablyPrime(0) { // exact below 2^64
			ps = append(ps, n)
		}
	}
	return ps
}

// randomComposites64 returns 1024 random odd composites below 2^64: random
// odd uint64 with the few primes left out.
func randomComposites64() []uint64 {
	r := rand.New(rand.NewPCG(2, 2))
	var cs []uint64
	for len(cs) < 1024 {
		n := r.Uint64() | 1
		if !new(big.Int).SetUint64(n).ProbablyPrime(0) {
			cs = append(cs, n)
		}
	}
	return cs
}

// randomPrimeDigits returns the first prime at or after a random odd number
// of the given number of decimal digits, deterministically.
func randomPrimeDigits(digits int) *big.Int {
	r := rand.New(rand.NewPCG(3, uint64(digits)))
	d := make([]byte, digits)
	for i := range d {
		d[i] = byte('0' + r.IntN(10))
	}
	d[0] = byte('1' + r.IntN(9))
	n, _ := new(big.Int).SetString(string(d), 10)
	for n.SetBit(n, 0, 1); !n.ProbablyPrime(0); {
		n.Add(n, bigTwo)
	}
	return n
}

// isPrime64MR7 is IsPrime64 with the seven-base Miller–Rabin test in place
// of both mr32 and bpsw64.
func isPrime64MR7(n uint64) bool {
	if n < 2 {
		return false
	}
	if n&1 == 0 {
		return n == 2
	}
	for _, p := range trialPrimes {
		if n*p.inv <= p.max {
			return n == uint64(p.p)
		}
	}
	return n < trialLimit*trialLimit || mr7(n)
}

// trialDivision is the textbook test, correct but slow: it tries every odd
// divisor up to √n. i·i cannot wrap for the small n it is used on
// (n < (2^32 − 1)²).
func trialDivision(n uint64) bool {
	if n < 2 {
		return false
	}
	if n%2 == 0 {
		return n == 2
	}
	for i := uint64(3); i*i <= n; i += 2 {
		if n%i == 0 {
			return false
		}
	}
	return true
}
