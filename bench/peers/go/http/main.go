// The Go peer of examples/http_server.c for bench/http_vs_go.sh: net/http,
// GET / answers "hello\n" (text/plain), other paths 404, on 127.0.0.1:PORT.
//
//	go build -o http_hello ./http && ./http_hello PORT
package main

import (
	"fmt"
	"net/http"
	"os"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: http_hello PORT")
		os.Exit(2)
	}
	hello := []byte("hello\n")
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/plain")
		w.Write(hello)
	})
	fmt.Fprintln(os.Stderr, http.ListenAndServe("127.0.0.1:"+os.Args[1], nil))
	os.Exit(1)
}
