package prime

import "math/bits"

// Montgomery arithmetic modulo an odd n.
//
// With R = 2^64 (or 2^32 for mont32), every residue x is stored as
// x·R mod n. The product of two stored values a·R and b·R is a·b·R², and
// one Montgomery reduction (REDC) divides by R modulo n, giving a·b·R again.
// REDC needs only multiplications, a subtraction and a conditional
// addition, never a division, which makes a modular multiplication several
// times cheaper than bits.Mul64 followed by bits.Div64.
//
// Addition and subtraction commute with the scaling by R, so they act on
// stored values directly. Equality of stored values is equality of
// residues because every stored value is kept fully reduced, in [0, n).

// mont64 holds the constants for Montgomery arithmetic modulo an odd n with
// R = 2^64. Any odd n < 2^64 is allowed, including n > 2^63.
type mont64 struct {
	n    uint64 // the odd modulus
	ninv uint64 // n⁻¹ mod 2^64
	one  uint64 // R mod n: the number 1 in Montgomery form
	r2   uint64 // R² mod n: toMont(x) = REDC(x·R²)
}

func newMont64(n uint64) mont64 {
	return mont64{n: n, ninv: inverse64(n), one: -n % n, r2: r2mod64(n)}
}

// inverse64 returns n⁻¹ mod 2^64 for odd n by Newton's iteration: if
// n·x ≡ 1 (mod 2^k) then n·x·(2 − n·x) ≡ 1 (mod 2^2k). The start x = n is
// right to 3 bits because the square of an odd number is 1 mod 8, so five
// steps give 3 → 6 → 12 → 24 → 48 → 96 ≥ 64 bits.
func inverse64(n uint64) uint64 {
	x := n
	for range 5 {
		x *= 2 - n*x
	}
	return x
}

// r2mod64 returns R² mod n = (R mod n)² mod n. The one division is safe
// because the high word of (R mod n)² is below n.
func r2mod64(n uint64) uint64 {
	r := -n % n // (2^64 − n) mod n = 2^64 mod n
	hi, lo := bits.Mul64(r, r)
	_, rem := bits.Div64(hi, lo, n)
	return rem
}

// redc returns T·R⁻¹ mod n for T = hi·2^64 + lo with hi < n, which holds for
// any product of two values below n.
//
// With q = lo·n⁻¹ mod 2^64, q·n ≡ lo (mod 2^64), so T − q·n has a zero low
// word and (T − q·n)/2^64 = hi − ⌊q·n/2^64⌋ exactly. That value is congruent
// to T·R⁻¹ modulo n and, as both terms lie in [0, n), it lies in (−n, n): one
// conditional addition of n reduces it. Subtracting instead of adding q·n
// (the textbook REDC) avoids a carry out of 128 bits, so n may use all 64 bits.
func (m *mont64) redc(hi, lo uint64) uint64 {
	q := lo * m.ninv
	h, _ := bits.Mul64(q, m.n)
	r := hi - h
	if hi < h {
		r += m.n
	}
	return r
}

// mul returns a·b·R⁻¹ mod n: the Montgomery product of a, b < n.
func (m *mont64) mul(a, b uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	return m.redc(hi, lo)
}

// toMont returns x·R mod n for any x.
func (m *mont64) toMont(x uint64) uint64 {
	return m.mul(x%m.n, m.r2)
}

// add returns a + b mod n for a, b < n. The sum s = a + b − c·2^64 with
// carry c is below 2n; s − n (mod 2^64) is the answer unless s < n without a
// carry. (With a carry, a + b ≥ 2^64 > n and s − n wraps to a + b − n.)
// Written so that the compiler emits a conditional move: the condition
// depends on the data and would be mispredicted half the time.
func (m *mont64) add(a, b uint64) uint64 {
	s, c := bits.Add64(a, b, 0)
	t, borrow := bits.Sub64(s, m.n, 0)
	if c < borrow {
		t = s
	}
	return t
}

// sub returns a − b mod n for a, b < n. If a < b, a − b wraps to
// a − b + 2^64 and adding n wraps back to a − b + n, which is in [0, n).
func (m *mont64) sub(a, b uint64) uint64 {
	d := a - b
	if a < b {
		d += m.n
	}
	return d
}

// mont32 is mont64 with R = 2^32 for an odd n < 2^32: a product fits one
// 64-bit word, so a multiplication costs one 64-bit multiply less.
type mont32 struct {
	n    uint32
	ninv uint32 // n⁻¹ mod 2^32
	one  uint32 // 2^32 mod n
	r2   uint32 // 2^64 mod n
}

func newMont32(n uint32) mont32 {
	one := uint32((1 << 32) % uint64(n))
	return mont32{
		n:    n,
		ninv: uint32(inverse64(uint64(n))), // n⁻¹ mod 2^64 reduced mod 2^32
		one:  one,
		r2:   uint32(uint64(one) * uint64(one) % uint64(n)),
	}
}

// mul is mont64.redc with 32-bit words; t = a·b < n·2^32, so its high half is
// below n as redc requires.
func (m *mont32) mul(a, b uint32) uint32 {
	t := uint64(a) * uint64(b)
	q := uint32(t) * m.ninv
	h := uint32(uint64(q) * uint64(m.n) >> 32)
	hi := uint32(t >> 32)
	r := hi - h
	if hi < h {
		r += m.n
	}
	return r
}
