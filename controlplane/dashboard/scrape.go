package dashboard

import (
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// Scraper gathers the edge nodes' metrics over HTTP from their /metrics
// URLs, for deployments whose nodes run in other processes (the all-in-one
// lab gathers its nodes' registries in process instead). It is a
// prometheus.Gatherer for controlplane.Config.EdgeMetrics, and safe for
// concurrent use.
type Scraper struct {
	// URLs are the nodes' metrics URLs ("http://edge-a:9100/metrics").
	URLs []string
	// Timeout bounds each scrape. Zero means 2s.
	Timeout time.Duration
	// Client makes the requests. Nil means a plain http.Client.
	Client *http.Client
}

var _ prometheus.Gatherer = Scraper{}

// Gather scrapes every URL at once. A node that does not answer is left
// out (it is down, and the Network view says so); the error is non-nil
// only when no URL answered.
func (s Scraper) Gather() ([]*dto.MetricFamily, error) {
	timeout := s.Timeout
	if timeout <= 0 {
		timeout = 2 * time.Second
	}
	client := s.Client
	if client == nil {
		client = &http.Client{}
	}
	var (
		mu   sync.Mutex
		out  = []*dto.MetricFamily{}
		errs []error
		wg   sync.WaitGroup
	)
	for _, u := range s.URLs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			fams, err := scrape(client, u, timeout)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
				return
			}
			out = append(out, fams...)
		}()
	}
	wg.Wait()
	if len(s.URLs) > 0 && len(errs) == len(s.URLs) {
		return nil, errors.Join(errs...)
	}
	return out, nil
}

func scrape(client *http.Client, url string, timeout time.Duration) ([]*dto.MetricFamily, error) {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return nil, fmt.Errorf("scraping %s: %w", url, err)
	}
	req.Header.Set("Accept", "text/plain")
	c := *client
	c.Timeout = timeout
	resp, err := c.Do(req)
	if err != nil {
		return nil, fmt.Errorf("scraping %s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("scraping %s: %s", url, resp.Status)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	byName, err := p.TextToMetricFamilies(http.MaxBytesReader(nil, resp.Body, 16<<20))
	if err != nil {
		return nil, fmt.Errorf("scraping %s: %w", url, err)
	}
	out := make([]*dto.MetricFamily, 0, len(byName))
	for _, f := range byName {
		out = append(out, f)
	}
	return out, nil
}
