// checksum: SHA-256 and length of a text, as a stdio function (one process per call).
package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
)

type request struct {
	RequestID string `json:"request_id"`
	Input     struct {
		Text string `json:"text"`
	} `json:"input"`
}

func main() {
	var req request
	out := json.NewEncoder(os.Stdout)
	if err := json.NewDecoder(os.Stdin).Decode(&req); err != nil {
		out.Encode(map[string]any{"success": false, "error": map[string]string{"code": "INVALID_INPUT", "message": err.Error()}})
		return
	}
	sum := sha256.Sum256([]byte(req.Input.Text))
	out.Encode(map[string]any{
		"request_id": req.RequestID,
		"success":    true,
		"output":     map[string]any{"sha256": hex.EncodeToString(sum[:]), "bytes": len(req.Input.Text)},
	})
}
