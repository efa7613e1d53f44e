package prime

import "math/big"

// strongLucasBig is mont64.strongLucas for a big.Int: it reports whether the
// odd n > 1 is a strong Lucas probable prime for Selfridge's parameters
// (method A): D the first of
// 5, −7, 9, −11, 13, … with (D/n) = −1, P = 1 and Q = (1 − D)/4. See
// mont64.strongLucas for the mathematics; here residues are big.Ints in
// [0, n) and each product is reduced by a division.
//
// Together with a base-2 strong probable prime test this is the Baillie–PSW
// test of R. Baillie and S. S. Wagstaff ("Lucas pseudoprimes", Math. Comp. 35
// (1980) 1391–1417) and C. Pomerance, J. L. Selfridge and S. S. Wagstaff
// ("The pseudoprimes to 25·10^9", Math. Comp. 35 (1980) 1003–1026).
func strongLucasBig(n *big.Int) bool {
	d64 := int64(5)
	var dBig big.Int
	for i := 0; ; i++ {
		j := big.Jacobi(dBig.SetInt64(d64), n)
		if j == -1 {
			break
		}
		if j == 0 && new(big.Int).Rem(&dBig, n).Sign() != 0 {
			return false // 1 < gcd(|D|, n) < n: a proper factor
		}
		if i == 8 && isSquareBig(n) {
			return false // a square n has (D/n) ≠ −1 for every D
		}
		if d64 > 0 {
			d64 = -d64 - 2
		} else {
			d64 = -d64 + 2
		}
	}
	q64 := (1 - d64) / 4
	qSmall := big.NewInt(q64)
	// gcd(n, Q) = 1 need not be checked; see mont64.strongLucas.

	m := modN{n: n}
	var q big.Int
	q.Mod(qSmall, n) // Q as a residue in [0, n)

	np1 := new(big.Int).Add(n, bigOne)
	s := np1.TrailingZeroBits()
	d := np1.Rsh(np1, s)

	// The walk of mont64.strongLucas from k = 1 to k = d along the bits of d,
	// keeping v = V_k, v1 = V_(k+1) and qk = Q^k. Here Q^(k+1) = Q^k·Q is a
	// cheap product with the small signed qSmall, so each bit costs three
	// full products and a division each. A branch on the bit is cheap next
	// to those.
	var v, v1, qk, qk1, tmp big.Int
	v.SetInt64(1)                      // V_1 = P = 1
	m.sub(&v1, &v, m.double(&tmp, &q)) // V_2 = P² − 2Q
	qk.Set(&q)                         // Q^1
	for i := d.BitLen() - 2; i >= 0; i-- {
		if d.Bit(i) == 0 { // k → 2k
			m.mul(&v1, &v, &v1)
			m.sub(&v1, &v1, &qk) // V_2k+1 = V_k·V_(k+1) − Q^k
			m.mul(&v, &v, &v)
			m.sub(&v, &v, m.double(&tmp, &qk)) // V_2k = V_k² − 2Q^k
			m.mul(&qk, &qk, &qk)
		} else { // k → 2k + 1
			m.mulSmall(&qk1, &qk, qSmall) // Q^(k+1)
			m.mul(&v, &v, &v1)
			m.sub(&v, &v, &qk) // V_2k+1 = V_k·V_(k+1) − Q^k
			m.mul(&v1, &v1, &v1)
			m.sub(&v1, &v1, m.double(&tmp, &qk1)) // V_2k+2 = V_(k+1)² − 2Q^(k+1)
			m.mul(&qk, &qk, &qk1)                 // Q^(2k+1)
		}
	}
	// v = V_d, v1 = V_(d+1): U_d ≡ 0 iff 2·V_(d+1) ≡ V_d (P = 1).
	if v.Sign() == 0 || m.double(&tmp, &v1).Cmp(&v) == 0 {
		return true
	}
	for range s - 1 {
		m.mul(&v, &v, &v)
		m.sub(&v, &v, m.double(&tmp, &qk)) // V_2k = V_k² − 2Q^k
		if v.Sign() == 0 {
			return true
		}
		m.mul(&qk, &qk, &qk)
	}
	return false
}

// modN does arithmetic on residues in [0, n). Its methods set and return z,
// which may alias an operand.
type modN struct {
	n        *big.Int
	tmp, quo big.Int
}

// mul sets z = x·y mod n.
func (m *modN) mul(z, x, y *big.Int) *big.Int {
	m.tmp.Mul(x, y)
	m.quo.QuoRem(&m.tmp, m.n, z) // remainder of a non-negative number: in [0, n)
	return z
}

// mulSmall sets z = x·c mod n for a small, possibly negative c.
func (m *modN) mulSmall(z, x, c *big.Int) *big.Int {
	m.tmp.Mul(x, c)
	return z.Mod(&m.tmp, m.n) // Euclidean modulus: in [0, n)
}

// sub sets z = x − y mod n.
func (m *modN) sub(z, x, y *big.Int) *big.Int {
	z.Sub(x, y)
	if z.Sign() < 0 {
		z.Add(z, m.n)
	}
	return z
}

// double sets z = 2x mod n.
func (m *modN) double(z, x *big.Int) *big.Int {
	z.Lsh(x, 1)
	if z.Cmp(m.n) >= 0 {
		z.Sub(z, m.n)
	}
	return z
}

func isSquareBig(n *big.Int) bool {
	r := new(big.Int).Sqrt(n)
	return r.Mul(r, r).Cmp(n) == 0
}
