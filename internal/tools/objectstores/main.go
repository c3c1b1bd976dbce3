// Command objectstores serves, on loopback ports, the object stores the tests copy
// artifacts into and out of: an S3-compatible server (gofakes3, files kept in memory) and
// Google Cloud Storage's JSON API (fake-gcs-server's fakestorage). scripts/test-servers
// builds and starts it; it runs until killed.
//
//	objectstores -dir DIR -s3 127.0.0.1:PORT -gcs 127.0.0.1:PORT
package main

import (
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/fsouza/fake-gcs-server/fakestorage"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
)

func main() {
	dir := flag.String("dir", "", "folder the stores keep their files in")
	s3Addr := flag.String("s3", "", "address of the S3-compatible server (host:port)")
	gcsAddr := flag.String("gcs", "", "address of the Google Cloud Storage server (host:port)")
	flag.Parse()
	if *dir == "" || *s3Addr == "" || *gcsAddr == "" {
		log.Fatal("usage: objectstores -dir DIR -s3 HOST:PORT -gcs HOST:PORT")
	}
	errs := make(chan error, 2)
	go func() { errs <- serveS3(*s3Addr) }()
	go func() { errs <- serveGCS(filepath.Join(*dir, "gcs"), *gcsAddr) }()
	log.Fatal(<-errs)
}

func serveS3(addr string) error {
	// In memory: gofakes3's file backend fails a listing whose prefix is a file's key
	// plus "/", which MLflow's S3 repository sends to tell a file from a folder.
	faker := gofakes3.New(s3mem.New(), gofakes3.WithAutoBucket(true))
	srv := &http.Server{Addr: addr, Handler: faker.Server(), ReadHeaderTimeout: 30 * time.Second}
	fmt.Printf("s3 on %s\n", addr)
	return srv.ListenAndServe()
}

func serveGCS(dir, addr string) error {
	host, portText, err := net.SplitHostPort(addr)
	if err != nil {
		return err
	}
	port, err := strconv.ParseUint(portText, 10, 16)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	srv, err := fakestorage.NewServerWithOptions(fakestorage.Options{Scheme: "http", Host: host, Port: uint16(port), StorageRoot: dir,
		PublicHost: addr, ExternalURL: "http://" + addr})
	if err != nil {
		return fmt.Errorf("gcs: %w", err)
	}
	fmt.Printf("gcs on %s\n", srv.URL())
	select {} // the server runs on its own goroutines until the process is killed
}
