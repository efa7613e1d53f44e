package samtemplate

import (
	"fmt"
	"testing"
)

// alarmsOn returns the template's alarms on metric name in namespace whose
// first dimension's value is dim (as written: {Ref: ...} or {Fn::GetAtt:
// ...}), by logical id.
func alarmsOn(src Template, namespace, name string, dim any) map[string]any {
	out := map[string]any{}
	for id, r := range src.Resources() {
		if r["Type"] != "AWS::CloudWatch::Alarm" {
			continue
		}
		p := r["Properties"]
		if dig(p, "Namespace") == namespace && dig(p, "MetricName") == name && fmt.Sprint(dig(p, "Dimensions", "0", "Value")) == fmt.Sprint(dim) {
			out[id] = p
		}
	}
	return out
}

// TestAlarms wants, besides the dead-letter queues' (checkStorage), an
// alarm on the age of the oldest message of each queue a worker reads, and
// one on the HTTP API's server errors; and every alarm to notify
// AlarmActionArn when it is set, and to stay OK while its metric is
// missing (an idle queue or API sends none).
func TestAlarms(t *testing.T) {
	t.Parallel()
	ts := loaded(t)
	src := ts.Source
	for id, r := range src.Resources() {
		if r["Type"] != "AWS::CloudWatch::Alarm" {
			continue
		}
		p := r["Properties"]
		if got, want := fmt.Sprint(dig(p, "AlarmActions")), "map[Fn::If:[HasAlarmAction [map[Ref:AlarmActionArn]] map[Ref:AWS::NoValue]]]"; got != want {
			t.Errorf("%s AlarmActions: got %s; want !If [HasAlarmAction, [!Ref AlarmActionArn], !Ref AWS::NoValue]", id, got)
		}
		if got := dig(p, "TreatMissingData"); got != "notBreaching" {
			t.Errorf("%s TreatMissingData: got %v; want notBreaching", id, got)
		}
		if dig(p, "AlarmDescription") == nil {
			t.Errorf("%s has no AlarmDescription; want what it means and where to look", id)
		}
	}

	maxReceives, err := resolveNumber(src, dig(src, "Parameters", "MaxReceiveCount", "Default"), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, fn := range []string{"WorkerFunction", "BigWorkerFunction"} {
		queue := functionQueue(t, ts.Transformed, fn)
		alarms := alarmsOn(src, "AWS/SQS", "ApproximateAgeOfOldestMessage", map[string]any{"Fn::GetAtt": []any{queue, "QueueName"}})
		if len(alarms) != 1 {
			t.Errorf("age-of-oldest-message alarms on %s: got %d; want 1", queue, len(alarms))
			continue
		}
		for id, p := range alarms {
			if dig(p, "Statistic") != "Maximum" || dig(p, "ComparisonOperator") != "GreaterThanThreshold" {
				t.Errorf("%s: %v %v; want Maximum, GreaterThanThreshold", id, dig(p, "Statistic"), dig(p, "ComparisonOperator"))
			}
			// With the defaults, a message that fails every delivery
			// reaches the dead-letter queue (whose alarm says so) before
			// it is old enough for this one; and a stalled worker is
			// noticed within the hour.
			visibility, err := resolveNumber(src, dig(src.Properties(queue), "VisibilityTimeout"), nil)
			if err != nil {
				t.Fatal(err)
			}
			threshold, _ := dig(p, "Threshold").(float64)
			if threshold < maxReceives*visibility || threshold > 3600 {
				t.Errorf("%s Threshold: got %v s; want from MaxReceiveCount × visibility timeout (%v × %v s) to an hour", id, threshold, maxReceives, visibility)
			}
		}
	}

	alarms := alarmsOn(src, "AWS/ApiGateway", "5xx", map[string]any{"Ref": "HttpApi"})
	if len(alarms) != 1 {
		t.Fatalf("5xx alarms on the HTTP API (dimension ApiId): got %d; want 1", len(alarms))
	}
	for id, p := range alarms {
		if dig(p, "Dimensions", "0", "Name") != "ApiId" || dig(p, "Statistic") != "Sum" || dig(p, "ComparisonOperator") != "GreaterThanThreshold" || dig(p, "Threshold") != 0.0 {
			t.Errorf("%s: %v %v %v %v; want dimension ApiId, Sum, GreaterThanThreshold 0", id, dig(p, "Dimensions", "0", "Name"), dig(p, "Statistic"), dig(p, "ComparisonOperator"), dig(p, "Threshold"))
		}
	}
}
