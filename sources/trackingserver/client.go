package trackingserver

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/mlflow-bulk/mlflow-bulk/sources/internal/jsonfile"
)

// client asks one MLflow tracking server, with the credentials MLflow's own client would
// use, retrying what a busy or restarting server answers.
type client struct {
	base  *url.URL // scheme, host and path prefix, without credentials
	http  *http.Client
	auth  authenticator
	sleep func(context.Context, time.Duration) error
	// workspace, when set, is sent as the workspace every request is about.
	workspace string
	// answered is set once the server answered: a refused connection after that is a
	// restart, worth waiting out; before, most likely a wrong address.
	answered *atomic.Bool
}

// maxAttempts bounds the tries of one request; the waits between them double from
// firstBackoff up to maxBackoff (or are what the server's Retry-After asks, up to that).
const (
	maxAttempts  = 8
	firstBackoff = 500 * time.Millisecond
	maxBackoff   = 30 * time.Second
)

// ErrServer marks an answer of the server that is not the data asked for.
var ErrServer = errors.New("the tracking server refused the request")

// statusError is a refusal, with MLflow's error code when it gave one.
type statusError struct {
	endpoint string
	status   int
	code     string
	message  string
}

func (e *statusError) Error() string {
	msg := e.message
	if len(msg) > 300 {
		msg = msg[:300] + "…"
	}
	if e.code != "" {
		return fmt.Sprintf("%s: HTTP %d %s: %s", e.endpoint, e.status, e.code, msg)
	}
	return fmt.Sprintf("%s: HTTP %d: %s", e.endpoint, e.status, msg)
}

func (e *statusError) Unwrap() error { return ErrServer }

// notFound reports whether err is the server saying it has no such route or thing.
func notFound(err error) bool {
	var se *statusError
	return errors.As(err, &se) && (se.status == http.StatusNotFound || se.code == "RESOURCE_DOES_NOT_EXIST" || se.code == "ENDPOINT_NOT_FOUND")
}

// unavailable reports whether err is the server saying it does not offer a feature.
func unavailable(err error) bool {
	var se *statusError
	return errors.As(err, &se) && (se.status == http.StatusServiceUnavailable || se.status == http.StatusNotImplemented || se.code == "FEATURE_DISABLED")
}

// get asks path with query values and decodes the answer into out.
func (c *client) get(ctx context.Context, path string, query url.Values, out any) error {
	return c.do(ctx, http.MethodGet, path, query, nil, out, retryable)
}

// probe asks for a feature the server may not offer: an unavailable answer (503, which
// MLflow gives for a feature it was started without) is final, not retried.
func (c *client) probe(ctx context.Context, path string, out any) error {
	return c.do(ctx, http.MethodGet, path, nil, nil, out, func(err error) bool { return retryable(err) && !unavailable(err) })
}

// post sends body as JSON to path and decodes the answer into out.
func (c *client) post(ctx context.Context, path string, body, out any) error {
	data, err := json.Marshal(body)
	if err != nil {
		return err
	}
	return c.do(ctx, http.MethodPost, path, nil, data, out, retryable)
}

func (c *client) do(ctx context.Context, method, path string, query url.Values, body []byte, out any, retry func(error) bool) error {
	u := *c.base
	u.Path = strings.TrimSuffix(u.Path, "/") + path
	u.RawQuery = query.Encode()
	endpoint := method + " " + path
	wait := firstBackoff
	for attempt := 1; ; attempt++ {
		data, retryAfter, err := c.once(ctx, method, u.String(), endpoint, body)
		var te *transportError
		if err == nil || !errors.As(err, &te) {
			c.answered.Store(true)
		}
		if errors.Is(err, syscall.ECONNREFUSED) && !c.answered.Load() {
			return fmt.Errorf("%w: is the server running, and is the URI its address?", err)
		}
		if err == nil {
			return jsonfile.Decode(u.Redacted(), data, out)
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if !retry(err) || attempt == maxAttempts {
			if attempt > 1 {
				return fmt.Errorf("%w (after %d tries)", err, attempt)
			}
			return err
		}
		d := wait + time.Duration(rand.Int64N(int64(wait/2)+1)) // jitter, so that workers do not retry in step
		if retryAfter > 0 {
			d = min(retryAfter, maxBackoff)
		}
		if err := c.sleep(ctx, d); err != nil {
			return err
		}
		wait = min(2*wait, maxBackoff)
	}
}

// once makes one request: the body of a 200, or the error with the wait the server
// asked for (Retry-After), if any.
func (c *client) once(ctx context.Context, method, u, endpoint string, body []byte) ([]byte, time.Duration, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return nil, 0, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("User-Agent", "mlflow-bulk")
	if c.workspace != "" {
		req.Header.Set("X-MLFLOW-WORKSPACE", c.workspace)
	}
	if c.auth != nil {
		if err := c.auth(req, body); err != nil {
			return nil, 0, fmt.Errorf("%s: %w", endpoint, err)
		}
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, 0, &transportError{endpoint: endpoint, err: err}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, 0, &transportError{endpoint: endpoint, err: err}
	}
	if resp.StatusCode == http.StatusOK {
		return data, 0, nil
	}
	se := &statusError{endpoint: endpoint, status: resp.StatusCode, message: strings.TrimSpace(string(data))}
	var mlflowErr struct {
		Code    string `json:"error_code"`
		Message string `json:"message"`
	}
	if json.Unmarshal(data, &mlflowErr) == nil && mlflowErr.Code != "" {
		se.code, se.message = mlflowErr.Code, mlflowErr.Message
	}
	return nil, retryAfter(resp.Header.Get("Retry-After")), se
}

// transportError is a request that got no answer (a reset connection, say).
type transportError struct {
	endpoint string
	err      error
}

func (e *transportError) Error() string { return fmt.Sprintf("%s: %v", e.endpoint, e.err) }
func (e *transportError) Unwrap() error { return e.err }

// retryable tells the failures a later try may get past: too many requests, a server
// error or an unavailable server, a connection reset or refused (a restart).
func retryable(err error) bool {
	var se *statusError
	if errors.As(err, &se) {
		return se.status == http.StatusTooManyRequests || se.status >= 500
	}
	var te *transportError
	if !errors.As(err, &te) {
		return false
	}
	return errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF)
}

// retryAfter reads a Retry-After header: seconds, or an HTTP date.
func retryAfter(v string) time.Duration {
	if v == "" {
		return 0
	}
	if secs, err := strconv.Atoi(v); err == nil && secs >= 0 {
		return time.Duration(secs) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return time.Until(t)
	}
	return 0
}

// sleepCtx waits d, or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
