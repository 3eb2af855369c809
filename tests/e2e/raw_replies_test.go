package e2e

// Raw replies are stored compressed, a write's together: the tests read them back the way an
// operator does, with `mds-api raw`.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os/exec"
	"testing"
)

type rawReply struct {
	RawID     int64           `json:"raw_id"`
	Symbol    string          `json:"symbol"`
	Provider  string          `json:"provider"`
	QuoteTime string          `json:"quote_time"`
	Reply     json.RawMessage `json:"reply"`
}

// storedReplies runs `mds-api raw` against databaseURL for each id and returns every reply.
func storedReplies(t *testing.T, databaseURL string, ids ...int64) []rawReply {
	t.Helper()
	bin, err := binary("MDS_API_BIN")
	if err != nil {
		t.Fatal(err)
	}
	args := []string{"raw"}
	for _, id := range ids {
		args = append(args, fmt.Sprint(id))
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = []string{"DATABASE_URL=" + databaseURL}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("mds-api raw %v: %v: %s", ids, err, stderr.String())
	}
	var out []rawReply
	scanner := bufio.NewScanner(&stdout)
	scanner.Buffer(make([]byte, 1<<20), 1<<24)
	for scanner.Scan() {
		var r rawReply
		if err := json.Unmarshal(scanner.Bytes(), &r); err != nil {
			t.Fatalf("mds-api raw printed %q: %v", scanner.Text(), err)
		}
		out = append(out, r)
	}
	return out
}
