package prime

import (
	"context"
	"errors"
	"math"
	"math/big"
	"math/rand/v2"
	"testing"
)

// The reference for n < 2^64 is math/big's ProbablyPrime, documented as
// "100% accurate for inputs less than 2⁶⁴"; beyond that ProbablyPrime(20)
// errs on a random composite with probability at most 4⁻²⁰.

func TestIsPrime64Known(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		n    uint64
		want bool
	}{
		{"0", 0, false},
		{"1", 1, false},
		{"2", 2, true},
		{"3", 3, true},
		{"4", 4, false},
		{"9", 9, false},
		{"25", 25, false},
		{"49", 49, false},
		{"largest trial prime 127", 127, true},
		{"127²", 127 * 127, false},
		{"first prime past trial limit 131", 131, true},
		{"131², the first square with no trial factor", 131 * 131, false},
		{"16381, largest prime below 2^14", 16381, true},
		{"65521², square of the largest 16-bit prime", 65521 * 65521, false},
		{"2^32−5, largest 32-bit prime", 1<<32 - 5, true},
		{"2^32−1", 1<<32 - 1, false},
		{"2^32+1 = 641·6700417", 1<<32 + 1, false},
		{"2^32+15, smallest prime above 2^32", 1<<32 + 15, true},
		{"1e9+7", 1_000_000_007, true},
		{"1e12+39", 1_000_000_000_039, true},
		{"4759123141, strong pseudoprime to 2, 7, 61", 4759123141, false},
		{"(2^32−5)(2^32−17)", (1<<32 - 5) * (1<<32 - 17), false},
		{"(2^32−5)²", (1<<32 - 5) * (1<<32 - 5), false},
		{"2^61−1", 1<<61 - 1, true},
		{"2^63−25, largest prime below 2^63", 1<<63 - 25, true},
		{"2^64−59, largest 64-bit prime", math.MaxUint64 - 58, true},
		{"2^64−1", math.MaxUint64, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := IsPrime64(tt.n); got != tt.want {
				t.Errorf("IsPrime64(%d) = %t; want %t", tt.n, got, tt.want)
			}
			b := new(big.Int).SetUint64(tt.n)
			if got := isPrime(b); got != tt.want {
				t.Errorf("IsPrime(%d) = %t; want %t", tt.n, got, tt.want)
			}
			if got := b.ProbablyPrime(0); got != tt.want {
				t.Errorf("table is wrong: ProbablyPrime(%d) = %t; want %t", tt.n, got, tt.want)
			}
		})
	}
}

// sieve returns the primality of every n < limit (Eratosthenes).
func sieve(limit int) []bool {
	isPrime := make([]bool, limit)
	for i := 2; i < limit; i++ {
		isPrime[i] = true
	}
	for i := 2; i*i < limit; i++ {
		if isPrime[i] {
			for j := i * i; j < limit; j += i {
				isPrime[j] = false
			}
		}
	}
	return isPrime
}

// hasTrialFactor reports whether IsPrime64 settles n by trial division.
func hasTrialFactor(n uint64) bool {
	for _, p := range trialPrimes {
		if n%uint64(p.p) == 0 {
			return true
		}
	}
	return false
}

// TestIsPrime64Sieve checks every n below 2^20 against a sieve, and also
// each of the three tests IsPrime64 can end in (mr32, bpsw64, and mr7 which
// the benchmarks compare) on every odd n past trial division.
func TestIsPrime64Sieve(t *testing.T) {
	t.Parallel()
	const limit = 1 << 20
	want := sieve(limit)
	for n := range uint64(limit) {
		if got := IsPrime64(n); got != want[n] {
			t.Fatalf("IsPrime64(%d) = %t; want %t", n, got, want[n])
		}
		if n < trialLimit*trialLimit || n%2 == 0 || hasTrialFactor(n) {
			continue
		}
		if got := mr32(uint32(n)); got != want[n] {
			t.Fatalf("mr32(%d) = %t; want %t", n, got, want[n])
		}
		if got := bpsw64(n); got != want[n] {
			t.Fatalf("bpsw64(%d) = %t; want %t", n, got, want[n])
		}
		if got := mr7(n); got != want[n] {
			t.Fatalf("mr7(%d) = %t; want %t", n, got, want[n])
		}
	}
}

// TestIsPrime64Boundaries checks windows around the places where IsPrime64
// changes method or where arithmetic could overflow.
func TestIsPrime64Boundaries(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		center uint64
	}{
		{"trial limit squared", trialLimit * trialLimit},
		{"2^31", 1 << 31},
		{"2^32", 1 << 32},
		{"Jaeschke bound 4759123141", 4759123141},
		{"2^63", 1 << 63},
		{"2^64", math.MaxUint64 - 2000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			for n := tt.center - 2000; n <= tt.center+2000 && n >= tt.center-2000; n++ {
				checkUint64(t, n)
			}
		})
	}
}

// checkUint64 compares IsPrime64, IsPrime and the alternative tests with
// math/big.
func checkUint64(t *testing.T, n uint64) {
	t.Helper()
	b := new(big.Int).SetUint64(n)
	want := b.ProbablyPrime(0)
	if got := IsPrime64(n); got != want {
		t.Fatalf("IsPrime64(%d) = %t; want %t", n, got, want)
	}
	if got := isPrime(b); got != want {
		t.Fatalf("IsPrime(%d) = %t; want %t", n, got, want)
	}
	if n < trialLimit*trialLimit || n%2 == 0 || hasTrialFactor(n) {
		return
	}
	if got := bpsw64(n); got != want {
		t.Fatalf("bpsw64(%d) = %t; want %t", n, got, want)
	}
	if got := mr7(n); got != want {
		t.Fatalf("mr7(%d) = %t; want %t", n, got, want)
	}
}

func TestIsPrime64Random(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(1, 1))
	randomPrime := func(bits int) uint64 {
		for {
			n := r.Uint64()>>(64-bits) | 1<<(bits-1) | 1
			if new(big.Int).SetUint64(n).ProbablyPrime(0) {
				return n
			}
		}
	}
	tests := []struct {
		name string
		gen  func() uint64
	}{
		{"uniform", r.Uint64},
		{"random length", func() uint64 { return r.Uint64() >> r.IntN(64) }},
		{"odd, no trial factor", func() uint64 {
			for {
				if n := r.Uint64() | 1; !hasTrialFactor(n) {
					return n
				}
			}
		}},
		{"product of two 32-bit primes", func() uint64 { return randomPrime(32) * randomPrime(32) }},
		{"product of unbalanced primes", func() uint64 {
			k := 8 + r.IntN(25)
			return randomPrime(k) * randomPrime(64-k)
		}},
		{"square of a prime", func() uint64 { p := randomPrime(2 + r.IntN(31)); return p * p }},
		{"prime", func() uint64 { return randomPrime(2 + r.IntN(63)) }},
	}
	for _, tt := range tests {
		ns := make([]uint64, 5000)
		for i := range ns {
			ns[i] = tt.gen()
		}
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			for _, n := range ns {
				checkUint64(t, n)
			}
		})
	}
}

// isPrime is IsPrime with a context that is never done.
func isPrime(n *big.Int) bool {
	ok, err := IsPrime(context.Background(), n)
	if err != nil {
		panic(err)
	}
	return ok
}

func mustParse(t *testing.T, s string) *big.Int {
	t.Helper()
	n, ok := new(big.Int).SetString(s, 10)
	if !ok {
		t.Fatalf("bad number %q", s)
	}
	return n
}

// randomBits returns a uniformly random number below 2^bits.
func randomBits(r *rand.Rand, bits int) *big.Int {
	n := new(big.Int)
	for i := 0; i < bits; i += 64 {
		n.Lsh(n, 64).Or(n, new(big.Int).SetUint64(r.Uint64()))
	}
	return n.Rsh(n, uint((bits+63)/64*64-bits))
}

func TestIsPrimeRandomBig(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(3, 3))
	nextPrime := func(n *big.Int) *big.Int {
		n = new(big.Int).SetBit(n, 0, 1)
		for !n.ProbablyPrime(0) {
			n.Add(n, bigTwo)
		}
		return n
	}
	tests := []struct {
		name  string
		count int
		gen   func() *big.Int
	}{
		{"random 65..512 bits", 3000, func() *big.Int { return randomBits(r, 65+r.IntN(448)) }},
		{"odd, no small factor", 300, func() *big.Int {
			for {
				n := randomBits(r, 65+r.IntN(448))
				n.SetBit(n, 0, 1)
				if !hasSmallFactor(n) {
					return n
				}
			}
		}},
		{"prime", 100, func() *big.Int { return nextPrime(randomBits(r, 65+r.IntN(448))) }},
		{"product of two primes", 100, func() *big.Int {
			return new(big.Int).Mul(nextPrime(randomBits(r, 33+r.IntN(100))), nextPrime(randomBits(r, 33+r.IntN(100))))
		}},
		{"negative", 300, func() *big.Int {
			n := randomBits(r, 1+r.IntN(200))
			if r.IntN(2) == 0 {
				n = nextPrime(n)
			}
			return n.Neg(n)
		}},
	}
	for _, tt := range tests {
		ns := make([]*big.Int, tt.count)
		for i := range ns {
			ns[i] = tt.gen()
		}
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			for _, n := range ns {
				if got, want := isPrime(n), n.ProbablyPrime(20); got != want {
					t.Fatalf("IsPrime(%v) = %t; want %t", n, got, want)
				}
			}
		})
	}
}

func TestIsPrimeSmallNonPositive(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		n    *big.Int
	}{
		{"0", big.NewInt(0)},
		{"1", big.NewInt(1)},
		{"−1", big.NewInt(-1)},
		{"−2", big.NewInt(-2)},
		{"−7", big.NewInt(-7)},
		{"−(2^61−1)", big.NewInt(-(1<<61 - 1))},
		{"−(2^89−1)", new(big.Int).Neg(new(big.Int).Sub(new(big.Int).Lsh(bigOne, 89), bigOne))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := isPrime(tt.n); got {
				t.Errorf("IsPrime(%v) = %t; want false", tt.n, got)
			}
		})
	}
}

// TestIsPrime64Allocs is not parallel: AllocsPerRun counts the mallocs of
// the whole process, and parallel tests only start once serial ones end.
func TestIsPrime64Allocs(t *testing.T) {
	ns := []uint64{0, 2, 9, 65521, 1<<32 - 5, 4759123141, 1<<61 - 1, math.MaxUint64 - 58, 3825123056546413051}
	got := testing.AllocsPerRun(100, func() {
		for _, n := range ns {
			boolSink = IsPrime64(n)
		}
	})
	if got != 0 {
		t.Errorf("IsPrime64 allocations per run = %v; want 0", got)
	}
}

var boolSink bool

// FuzzIsPrime64 compares IsPrime64 and IsPrime with math/big and, past trial
// division, bpsw64 with mr7.
func FuzzIsPrime64(f *testing.F) {
	for _, n := range []uint64{0, 1, 2, 561, 16129, 4759123141, 1<<61 - 1, 3825123056546413051, math.MaxUint64} {
		f.Add(n)
	}
	f.Fuzz(func(t *testing.T, n uint64) {
		checkUint64(t, n)
	})
}

// FuzzIsPrime compares IsPrime with math/big on a big-endian magnitude of up
// to 200 bytes (Arnault's 397-digit number takes 165) and a sign.
func FuzzIsPrime(f *testing.F) {
	f.Add([]byte{0x02}, false)
	f.Add([]byte{0x02}, true)
	f.Add(new(big.Int).Lsh(bigOne, 89).Bytes(), false) // 2^89, next to the prime 2^89 − 1
	f.Fuzz(func(t *testing.T, b []byte, neg bool) {
		if len(b) > 200 {
			t.Skip()
		}
		n := new(big.Int).SetBytes(b)
		if neg {
			n.Neg(n)
		}
		if got, want := isPrime(n), n.ProbablyPrime(20); got != want {
			t.Errorf("IsPrime(%v) = %t; want %t", n, got, want)
		}
	})
}

// doneAfter is a context whose Err starts to report context.Canceled after
// it has been asked ok times: a context cancelled between two rounds,
// without a clock.
type doneAfter struct {
	context.Context
	ok, asked int
}

func (c *doneAfter) Err() error {
	c.asked++
	if c.asked > c.ok {
		return context.Canceled
	}
	return nil
}

// TestIsPrimeStopsWhenDone: beyond 64 bits IsPrime looks at its context
// before the Baillie–PSW test and before each random round, and stops with
// the context's error at the first look that finds it done.
func TestIsPrimeStopsWhenDone(t *testing.T) {
	t.Parallel()
	p := randomPrimeDigits(300)
	for ok := range extraRounds + 2 {
		ctx := &doneAfter{Context: t.Context(), ok: ok}
		got, err := IsPrime(ctx, p)
		if ok <= extraRounds {
			if got || !errors.Is(err, context.Canceled) {
				t.Errorf("done after %d looks: IsPrime = %t, %v; want false, context.Canceled", ok, got, err)
			}
			if ctx.asked != ok+1 {
				t.Errorf("done after %d looks: IsPrime looked %d times; want %d (it went on past a done context)", ok, ctx.asked, ok+1)
			}
			continue
		}
		if !got || err != nil {
			t.Errorf("done after %d looks: IsPrime = %t, %v; want true, nil", ok, got, err)
		}
	}

	// Up to 64 bits the answer takes a microsecond and ignores the context.
	cancelled, cancel := context.WithCancel(t.Context())
	cancel()
	if got, err := IsPrime(cancelled, big.NewInt(1<<61-1)); !got || err != nil {
		t.Errorf("IsPrime(cancelled, 2^61−1) = %t, %v; want true, nil", got, err)
	}
}
