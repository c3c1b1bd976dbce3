// Command restread is the baseline of the tracking-server benchmark (scripts/bench-server):
// a plain sequential reader of MLflow's REST API, one request at a time, that reads every
// run of every experiment and every metric's whole history through get-history, the best
// endpoint for complete histories, decodes the answers and counts the points.
//
//	restread http://127.0.0.1:5000
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strconv"
)

type page struct {
	Experiments []struct {
		ID string `json:"experiment_id"`
	} `json:"experiments"`
	Runs []struct {
		Info struct {
			RunID string `json:"run_id"`
		} `json:"info"`
		Data struct {
			Metrics []struct {
				Key string `json:"key"`
			} `json:"metrics"`
		} `json:"data"`
	} `json:"runs"`
	Metrics []struct {
		Key       string          `json:"key"`
		Value     json.RawMessage `json:"value"`
		Timestamp int64           `json:"timestamp"`
		Step      int64           `json:"step"`
	} `json:"metrics"`
	NextPageToken string `json:"next_page_token"`
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: restread URL")
		os.Exit(2)
	}
	base := os.Args[1]
	points := 0
	for expToken := ""; ; {
		var exps page
		post(base+"/api/2.0/mlflow/experiments/search", map[string]any{"max_results": 1000, "view_type": "ALL", "page_token": expToken}, &exps)
		for _, e := range exps.Experiments {
			for runToken := ""; ; {
				var runs page
				post(base+"/api/2.0/mlflow/runs/search", map[string]any{"experiment_ids": []string{e.ID}, "run_view_type": "ALL", "max_results": 1000, "page_token": runToken}, &runs)
				for _, r := range runs.Runs {
					for _, m := range r.Data.Metrics {
						for token := ""; ; {
							q := url.Values{"run_id": {r.Info.RunID}, "metric_key": {m.Key}, "max_results": {"25000"}}
							if token != "" {
								q.Set("page_token", token)
							}
							var h page
							get(base+"/api/2.0/mlflow/metrics/get-history?"+q.Encode(), &h)
							points += len(h.Metrics)
							if token = h.NextPageToken; token == "" || len(h.Metrics) == 0 {
								break
							}
						}
					}
				}
				if runToken = runs.NextPageToken; runToken == "" || len(runs.Runs) == 0 {
					break
				}
			}
		}
		if expToken = exps.NextPageToken; expToken == "" || len(exps.Experiments) == 0 {
			break
		}
	}
	fmt.Println(strconv.Itoa(points) + " metric points")
}

func post(u string, body map[string]any, out any) {
	if body["page_token"] == "" {
		delete(body, "page_token")
	}
	data, err := json.Marshal(body)
	check(err)
	resp, err := http.Post(u, "application/json", bytes.NewReader(data))
	decode(resp, err, out)
}

func get(u string, out any) {
	resp, err := http.Get(u)
	decode(resp, err, out)
}

func decode(resp *http.Response, err error, out any) {
	check(err)
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		check(fmt.Errorf("%s: HTTP %d", resp.Request.URL, resp.StatusCode))
	}
	check(json.NewDecoder(resp.Body).Decode(out))
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "restread:", err)
		os.Exit(1)
	}
}
