package bolt

// EncodeTask exposes the record encoding to the external tests that damage
// records on disk.
var EncodeTask = encodeTask

// DecodeClaim exposes the claim decoding to the tests of its formats.
var DecodeClaim = decodeClaim
