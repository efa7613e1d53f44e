package samtemplate

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/asyncprime/asyncprime/internal/metrics"
)

// TestDashboard wants the dashboard to show what the functions emit, under
// the names internal/metrics writes, from the functions that write them,
// and the queues' and Lambda's own metrics.
func TestDashboard(t *testing.T) {
	t.Parallel()
	tmpl := loaded(t).Source
	body, ok := dig(tmpl.Properties("Dashboard"), "DashboardBody", "Fn::Sub").(string)
	if !ok {
		t.Fatal("Dashboard.DashboardBody is not a !Sub string")
	}
	// ${Res} and ${Res.Attr} stand for names known at deploy time.
	plain := regexp.MustCompile(`\$\{([A-Za-z:]+)(\.[A-Za-z]+)?\}`).ReplaceAllString(body, "<$1$2>")
	var dash struct {
		Widgets []struct {
			Properties struct {
				Metrics [][]any `json:"metrics"`
			} `json:"properties"`
		} `json:"widgets"`
	}
	if err := json.Unmarshal([]byte(plain), &dash); err != nil {
		t.Fatalf("DashboardBody is not JSON: %v", err)
	}
	shown := map[[4]string]bool{}
	for _, w := range dash.Widgets {
		for _, m := range w.Properties.Metrics {
			if len(m) >= 4 {
				var k [4]string
				for i := range k {
					k[i], _ = m[i].(string)
				}
				shown[k] = true
			}
		}
	}
	want := [][4]string{
		{metrics.Namespace, metrics.MetricSubmitted, metrics.DimensionFunction, "<SubmitFunction>"},
		{metrics.Namespace, metrics.MetricSucceeded, metrics.DimensionFunction, "<WorkerFunction>"},
		{metrics.Namespace, metrics.MetricFailed, metrics.DimensionFunction, "<WorkerFunction>"},
		// Only the checks beyond 64 bits record STARTED, and they run on
		// the big worker.
		{metrics.Namespace, metrics.MetricCheckDuration, metrics.DimensionFunction, "<BigWorkerFunction>"},
		{metrics.Namespace, metrics.MetricSubmitToStart, metrics.DimensionFunction, "<BigWorkerFunction>"},
		{"AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", "<TasksQueue.QueueName>"},
		{"AWS/SQS", "ApproximateAgeOfOldestMessage", "QueueName", "<TasksQueue.QueueName>"},
		{"AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", "<DeadLetterQueue.QueueName>"},
	}
	for fn := range Functions {
		want = append(want, [4]string{"AWS/Lambda", "Errors", "FunctionName", "<" + fn + ">"}, [4]string{"AWS/Lambda", "Throttles", "FunctionName", "<" + fn + ">"})
	}
	for _, m := range want {
		if !shown[m] {
			t.Errorf("the dashboard does not show %v", m)
		}
	}
}

// TestDashboardName: CloudWatch dashboard names are global to the account,
// so a name made of the stack's alone would clash between stacks of the
// same name in two regions; the DashboardUrl output links to it by name.
func TestDashboardName(t *testing.T) {
	t.Parallel()
	src := loaded(t).Source
	if got, want := dig(src.Properties("Dashboard"), "DashboardName", "Fn::Sub"), "${AWS::StackName}-${AWS::Region}"; got != want {
		t.Errorf("Dashboard DashboardName: got %v; want !Sub %s", dig(src.Properties("Dashboard"), "DashboardName"), want)
	}
	url, _ := dig(src, "Outputs", "DashboardUrl", "Value", "Fn::Sub").(string)
	if !strings.Contains(url, "region=${AWS::Region}#dashboards:name=${Dashboard}") {
		t.Errorf("DashboardUrl output: got %q; want the console URL of the region, naming ${Dashboard}", url)
	}
}
