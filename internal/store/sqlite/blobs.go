package sqlite

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"

	"github.com/klauspost/compress/zstd"
)

// JSON kept per row (a participant's or stream's winning row, a survey, a
// detection's issues) is stored as a zstd frame compressed against a
// dictionary: the field names and common values of those rows, frozen in
// dict/rows-v1.txt. A row of a few hundred bytes is mostly field names, so
// compressed alone it shrinks little, against the dictionary several
// times. The frame names the dictionary by its id, so a later dictionary
// gets a new id and file while rows packed with this one stay readable.
// Rows written before compression (plain JSON) are read as they are.

//go:embed dict/rows-v1.txt
var rowsDictV1 []byte

// rowsDictV1ID names dict/rows-v1.txt in the frames packed with it.
const rowsDictV1ID = 0x63640001

// The row encoder and decoder, like those of chunks, are safe for
// concurrent use and shared. On rows this small the encoder's fixed cost
// per row dominates, and the fastest level costs least for little more
// size.
var (
	rowEnc = mustRowEncoder()
	rowDec = mustRowDecoder()
)

func mustRowEncoder() *zstd.Encoder {
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(1),
		zstd.WithEncoderDictRaw(rowsDictV1ID, rowsDictV1))
	if err != nil {
		panic(fmt.Sprintf("row encoder: %v", err)) // only on a broken embedded dictionary
	}
	return enc
}

func mustRowDecoder() *zstd.Decoder {
	dec, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(0), zstd.WithDecoderDictRaw(rowsDictV1ID, rowsDictV1))
	if err != nil {
		panic(fmt.Sprintf("row decoder: %v", err))
	}
	return dec
}

// packRow compresses a JSON row; a row that would not shrink is kept as it
// is.
func packRow(js []byte) []byte {
	if len(js) < 16 {
		return js
	}
	z := rowEnc.EncodeAll(js, make([]byte, 0, len(js)/2))
	if len(z) >= len(js) {
		return js
	}
	return z
}

// unpackRow returns the JSON of a stored row, packed or not.
func unpackRow(b []byte) ([]byte, error) {
	if !bytes.HasPrefix(b, zstdMagic) {
		return b, nil
	}
	js, err := rowDec.DecodeAll(b, nil)
	if err != nil {
		return nil, fmt.Errorf("unpack row: %w", err)
	}
	return js, nil
}

// decodeRow unpacks a stored JSON row into v.
func decodeRow(b []byte, v any) error {
	js, err := unpackRow(b)
	if err != nil {
		return err
	}
	return json.Unmarshal(js, v)
}
