package api

import (
	"encoding/json"
	"net/http"
	"strconv"
)

// WriteProblem answers with the JSON error body of DESIGN §4:
// {"errors":[{"status","code","title"}],"error":title}. title is shown to
// the client. writeError uses it after classify; handlers outside this
// package (the admin API) call it with their own mapping.
func WriteProblem(w http.ResponseWriter, status int, code, title string) {
	body, _ := json.Marshal(errorBody{
		Errors: []errorItem{{Status: strconv.Itoa(status), Code: code, Title: title}},
		Error:  title,
	})
	h := w.Header()
	h.Del("ETag")
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Length", strconv.Itoa(len(body)+1))
	w.WriteHeader(status)
	w.Write(append(body, '\n'))
}
