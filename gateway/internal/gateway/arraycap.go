package gateway

import (
	"bytes"
	"io"
)

// maxArrayItems bounds every JSON array of a request body. No request of this API may hold more
// (the longest list is a polling job's symbols, and POLLING_MAX_SYMBOLS is at most 1,000), so a
// longer array is cut to maxArrayItems+1 items before it is decoded: the service then refuses it
// with its own message ("at most 50 symbols"), and a 40,000-symbol body costs the gateway a scan
// instead of a full decode.
const maxArrayItems = 1000

// capJSONArrays returns data with every JSON array of more than max items cut to max+1 items
// (the rest of the document unchanged), or data itself when no array is that long. It never
// fails: input that is not valid JSON stays invalid, and the decoder rejects it.
func capJSONArrays(data []byte, max int) []byte {
	type frame struct {
		array bool
		items int // commas seen at this level
	}
	var stack []frame
	var out []byte // allocated at the first cut
	last := 0      // data[last:] is not yet in out
	var text stringState
	for i := 0; i < len(data); i++ {
		c := data[i]
		if !text.structural(c) {
			continue
		}
		switch c {
		case '[', '{':
			stack = append(stack, frame{array: c == '['})
		case ']', '}':
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
		case ',':
			top := len(stack) - 1
			if top < 0 || !stack[top].array {
				continue
			}
			stack[top].items++
			if stack[top].items == max+1 { // max+1 items are complete: drop the others
				if out == nil {
					out = make([]byte, 0, len(data))
				}
				out = append(out, data[last:i]...)
				last = closingBracket(data, i+1)
				i = last - 1 // the bracket itself is read next and closes the frame
			}
		}
	}
	if out == nil {
		return data
	}
	return append(out, data[last:]...)
}

// closingBracket is the index of the bracket that closes the container data[from:] is inside,
// or len(data) when there is none.
func closingBracket(data []byte, from int) int {
	depth := 0
	var text stringState
	for i := from; i < len(data); i++ {
		c := data[i]
		if !text.structural(c) {
			continue
		}
		switch c {
		case '[', '{':
			depth++
		case ']', '}':
			if depth == 0 {
				return i
			}
			depth--
		}
	}
	return len(data)
}

// stringState follows JSON text byte by byte to tell structure from the inside of strings.
type stringState struct{ in, escaped bool }

// structural reports whether c, the next byte, is structure: outside every string and not a
// quote that opens or closes one.
func (s *stringState) structural(c byte) bool {
	switch {
	case s.in && s.escaped:
		s.escaped = false
	case s.in && c == '\\':
		s.escaped = true
	case c == '"':
		s.in = !s.in
	case !s.in:
		return true
	}
	return false
}

// arrayCappedBody reads the whole (already size-limited) body on its first Read and serves it
// with its arrays capped.
type arrayCappedBody struct {
	src io.ReadCloser
	buf *bytes.Reader
}

func (b *arrayCappedBody) Read(p []byte) (int, error) {
	if b.buf == nil {
		data, err := io.ReadAll(b.src)
		if err != nil {
			b.buf = bytes.NewReader(nil)
			return 0, err
		}
		b.buf = bytes.NewReader(capJSONArrays(data, maxArrayItems))
	}
	return b.buf.Read(p)
}

func (b *arrayCappedBody) Close() error { return b.src.Close() }
