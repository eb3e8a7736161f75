package ingest

import (
	"encoding/binary"
	"io"
	"unicode/utf16"
	"unicode/utf8"
)

// utf16Reader converts UTF-16 text to UTF-8. Windows PowerShell 5 writes
// redirected command output (az … -o json > out.json) as UTF-16 with a byte
// order mark, so such files are read as if they had been saved as UTF-8.
// Unpaired surrogates and a trailing odd byte become U+FFFD.
type utf16Reader struct {
	src   io.Reader
	order binary.ByteOrder
	in    [8 << 10]byte
	inN   int // undecoded bytes at the start of in
	out   []byte
	outAt int
	err   error
}

func newUTF16Reader(src io.Reader, order binary.ByteOrder) *utf16Reader {
	return &utf16Reader{src: src, order: order}
}

func (u *utf16Reader) Read(p []byte) (int, error) {
	for u.outAt == len(u.out) {
		if u.err != nil {
			return 0, u.err
		}
		m, err := u.src.Read(u.in[u.inN:])
		u.err = err
		if m == 0 && err == nil {
			return 0, nil
		}
		data := u.in[:u.inN+m]
		u.out, u.outAt = u.out[:0], 0
		i := 0
		for ; i+1 < len(data); i += 2 {
			r := rune(u.order.Uint16(data[i:]))
			if utf16.IsSurrogate(r) {
				if r >= 0xdc00 || i+3 >= len(data) {
					if r < 0xdc00 && err == nil {
						break // the low half is still to come
					}
					r = utf8.RuneError
				} else if d := utf16.DecodeRune(r, rune(u.order.Uint16(data[i+2:]))); d != utf8.RuneError {
					r = d
					i += 2
				} else {
					r = utf8.RuneError
				}
			}
			u.out = utf8.AppendRune(u.out, r)
		}
		u.inN = copy(u.in[:], data[i:])
		if err != nil && u.inN > 0 {
			u.out = utf8.AppendRune(u.out, utf8.RuneError)
			u.inN = 0
		}
	}
	n := copy(p, u.out[u.outAt:])
	u.outAt += n
	return n, nil
}
