package prime

import (
	"math/big"
	"math/bits"
	"math/rand/v2"
	"slices"
	"testing"
)

// Composites that fool weaker tests, and the exact sets of pseudoprimes
// that pin down each half of the Baillie–PSW test.

// TestChernickCarmichael checks every Carmichael number (6k+1)(12k+1)(18k+1)
// below 2^64 with three prime factors (J. Chernick, 1939). Carmichael
// numbers fool the Fermat test for every base prime to them.
func TestChernickCarmichael(t *testing.T) {
	t.Parallel()
	count := 0
	for k := uint64(1); ; k++ {
		a, b, c := 6*k+1, 12*k+1, 18*k+1
		hi, ab := bits.Mul64(a, b)
		hi2, n := bits.Mul64(ab, c)
		if hi != 0 || hi2 != 0 {
			break
		}
		if !IsPrime64(a) || !IsPrime64(b) || !IsPrime64(c) {
			continue
		}
		count++
		if IsPrime64(n) || bpsw64(n) || mr7(n) {
			t.Fatalf("Carmichael number %d = %d·%d·%d: got prime; want composite", n, a, b, c)
		}
	}
	if count < 1000 {
		t.Errorf("got %d Chernick numbers; want at least 1000", count)
	}
}

// TestStrongPseudoprimesBase2 checks the base-2 Miller–Rabin round against
// OEIS A001262: exactly these odd composites below 10^5 pass it.
func TestStrongPseudoprimesBase2(t *testing.T) {
	t.Parallel()
	want := []uint64{2047, 3277, 4033, 4681, 8321, 15841, 29341, 42799, 49141,
		52633, 65281, 74665, 80581, 85489, 88357, 90751}
	isPrime := sieve(100_000)
	var got []uint64
	for n := uint64(3); n < 100_000; n += 2 {
		m := newMont64(n)
		s := bits.TrailingZeros64(n - 1)
		if m.strongProbablePrime(m.pow2((n-1)>>s), s) != isPrime[n] {
			got = append(got, n)
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("base-2 strong pseudoprimes below 10^5: got %v; want %v", got, want)
	}
}

// TestGeneratedStrongPseudoprimes builds base-2 strong pseudoprimes from
// 2^31 to 2^64, the inputs on which bpsw64 rests on its Lucas test. For
// primes p and q = k(p−1) + 1, n = p·q is a base-2 Fermat pseudoprime
// whenever 2^(p−1) ≡ 1 (mod q), which happens often for small k; the base-2
// round then keeps the strong ones.
func TestGeneratedStrongPseudoprimes(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(7, 7))
	found := 0
	for found < 2000 {
		p := r.Uint64N(1<<31) | 1<<15 | 1
		q := (2+r.Uint64N(7))*(p-1) + 1
		hi, n := bits.Mul64(p, q)
		if hi != 0 || !IsPrime64(p) || !IsPrime64(q) {
			continue
		}
		m := newMont64(n)
		s := bits.TrailingZeros64(n - 1)
		if !m.strongProbablePrime(m.pow2((n-1)>>s), s) {
			continue
		}
		found++
		if IsPrime64(n) || bpsw64(n) || mr7(n) {
			t.Fatalf("strong pseudoprime %d = %d·%d: got prime; want composite", n, p, q)
		}
		if m.strongLucas() {
			t.Errorf("strongLucas(%d) = true; a base-2 strong pseudoprime that passes would be a Baillie–PSW pseudoprime", n)
		}
	}
}

// TestStrongLucasPseudoprimes checks both strong Lucas tests against OEIS
// A217255, the strong Lucas pseudoprimes for Selfridge's method A: exactly
// these odd numbers below 325000 pass and are composite.
func TestStrongLucasPseudoprimes(t *testing.T) {
	t.Parallel()
	want := []uint64{5459, 5777, 10877, 16109, 18971, 22499, 24569, 25199,
		40309, 58519, 75077, 97439, 100127, 113573, 115639, 130139, 155819,
		158399, 161027, 162133, 176399, 176471, 189419, 192509, 197801, 224369,
		230691, 231703, 243629, 253259, 268349, 288919, 313499, 324899}
	const limit = 325_000
	isPrime := sieve(limit)
	var got []uint64
	for n := uint64(3); n < limit; n += 2 {
		m := newMont64(n)
		if m.strongLucas() != isPrime[n] {
			got = append(got, n)
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("strong Lucas pseudoprimes below %d: got %v; want %v", limit, got, want)
	}
}

// TestBigMatches64 checks the big.Int Miller–Rabin round against its 64-bit
// version, which the sieve tests pin down.
func TestBigMatches64(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(2, 2))
	for range 3000 {
		n := r.Uint64()>>r.IntN(60) | 1
		if n < 5 {
			continue
		}
		m := newMont64(n)
		b := new(big.Int).SetUint64(n)
		a := 2 + r.Uint64N(n-3)
		s := bits.TrailingZeros64(n - 1)
		want := m.strongProbablePrime(m.pow(m.toMont(a), (n-1)>>s), s)
		if got := newMRBig(b).strongProbablePrime(new(big.Int).SetUint64(a)); got != want {
			t.Fatalf("mrBig(%d).strongProbablePrime(%d) = %t; want %t", n, a, got, want)
		}
	}
}

// arnault returns F. Arnault's 397-digit Carmichael number that is a strong
// pseudoprime to every prime base below 307 ("Constructing Carmichael
// numbers which are strong pseudoprimes to several bases", J. Symbolic
// Computation 20 (1995) 151–161): p1·(313(p1−1)+1)·(353(p1−1)+1).
func arnault(t *testing.T) *big.Int {
	t.Helper()
	p1 := mustParse(t, "29674495668685510550154174642905332730771991799853043350995075531276838753171770199594238596428121188033664754218345562493168782883")
	n := new(big.Int).Set(p1)
	for _, k := range []int64{313, 353} {
		p := new(big.Int).Sub(p1, bigOne)
		p.Mul(p, big.NewInt(k)).Add(p, bigOne)
		if !p.ProbablyPrime(20) {
			t.Fatalf("Arnault factor %d(p1−1)+1 is not prime", k)
		}
		n.Mul(n, p)
	}
	if !p1.ProbablyPrime(20) {
		t.Fatal("Arnault's p1 is not prime")
	}
	return n
}

// arnaultDecimal is arnault's number as printed in other test suites (sympy);
// TestArnaultFactors recomputes it from p1.
const arnaultDecimal = "2887148238050771212671429597130393991977609459279722700926516024197432303799152733116328983144639225941977803110929349655578418949441740933805615113979999421542416933972905423711002751042080134966731755152859226962916775325475044445856101949404200039904432116776619949629539250452698719329070373564032273701278453899126120309244841494728976885406024976768122077071687938121709811322297802059565867"

// TestPseudoprimes checks composites built to fool primality tests. For each
// it first confirms the claim (a Fermat or strong pseudoprime to the listed
// bases), so the test would notice a mistyped number.
func TestPseudoprimes(t *testing.T) {
	t.Parallel()
	const (
		fermat = iota // Fermat pseudoprime to base 2: 2^(n−1) ≡ 1
		strong        // strong pseudoprime to every prime base below maxBase
	)
	tests := []struct {
		name    string
		n       string
		kind    int
		maxBase int64
	}{
		{"Carmichael 561", "561", fermat, 0},
		{"Carmichael 1105", "1105", fermat, 0},
		{"Carmichael 1729", "1729", fermat, 0},
		{"Carmichael 2465", "2465", fermat, 0},
		{"Carmichael 2821", "2821", fermat, 0},
		{"Carmichael 6601", "6601", fermat, 0},
		{"Carmichael 8911", "8911", fermat, 0},
		{"2047", "2047", strong, 3},
		{"3215031751", "3215031751", strong, 11},
		{"3825123056546413051", "3825123056546413051", strong, 37},
		{"ψ12 above 2^64", "318665857834031151167461", strong, 41},
		{"ψ13 above 2^64", "3317044064679887385961981", strong, 43},
		{"46 digits, from math/big's tests", "1195068768795265792518361315725116351898245581", strong, 37},
		// Arnault, "Rabin-Miller primality test: composite numbers which
		// pass it", Math. Comp. 64 (1995) 355–361; also in math/big's tests.
		{"Arnault 1995, 337 digits", "8038374574536394912570796143419421081388376882875581458374889175222974273765333652186502336163960045457915042023603208766569966760987284043965408232928738791850869166857328267761771029389697739470167082304286871099974399765441448453411558724506334092790222752962294149842306881685404326457534018329786111298960644845216191652872597534901", strong, 200},
		{"Arnault 1995, 397 digits", arnaultDecimal, strong, 307},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			n := mustParse(t, tt.n)
			switch tt.kind {
			case fermat:
				if x := new(big.Int).Exp(bigTwo, new(big.Int).Sub(n, bigOne), n); x.Cmp(bigOne) != 0 {
					t.Fatalf("%v is not a Fermat pseudoprime to base 2", n)
				}
			case strong:
				mr := newMRBig(n)
				for a := int64(2); a < tt.maxBase; a++ {
					if IsPrime64(uint64(a)) && !mr.strongProbablePrime(big.NewInt(a)) {
						t.Fatalf("%v is not a strong pseudoprime to base %d", n, a)
					}
				}
			}
			if n.ProbablyPrime(20) {
				t.Fatalf("ProbablyPrime(%v) = true; the table wants a composite", n)
			}
			if got := isPrime(n); got {
				t.Errorf("IsPrime(%v) = %t; want false", n, got)
			}
			if n.IsUint64() {
				if got := IsPrime64(n.Uint64()); got {
					t.Errorf("IsPrime64(%v) = %t; want false", n, got)
				}
			}
		})
	}
}

func TestArnaultFactors(t *testing.T) {
	t.Parallel()
	if got, want := arnault(t), mustParse(t, arnaultDecimal); got.Cmp(want) != 0 {
		t.Errorf("p1·(313(p1−1)+1)·(353(p1−1)+1) = %v; want %v", got, want)
	}
}
