package samtemplate

import (
	"slices"
	"testing"
)

// peekedQueues returns the queues (logical ids) the dead-letter function
// is given through DeadLetterQueueVariables, sorted.
func peekedQueues(src Template) []string {
	var queues []string
	for _, v := range DeadLetterQueueVariables {
		if q, ok := ref(dig(src.Properties("DeadLetterFunction"), "Environment", "Variables", v)); ok {
			queues = append(queues, q)
		}
	}
	slices.Sort(queues)
	return queues
}

// TestDeadLetterFunction: the dead-letter function runs on a schedule,
// peeks at both dead-letter queues (given by URL), and nothing consumes
// them: no event source mapping reads them, and no role may delete from
// them.
func TestDeadLetterFunction(t *testing.T) {
	t.Parallel()
	ts := loaded(t)
	if got, want := peekedQueues(ts.Source), []string{"BigTasksDeadLetterQueue", "DeadLetterQueue"}; !slices.Equal(got, want) {
		t.Errorf("DeadLetterFunction peeks at %v (%v); want %v", got, DeadLetterQueueVariables, want)
	}
	if got := Queues["DeadLetterFunction"]; !slices.Equal(slices.Sorted(slices.Values(got)), peekedQueues(ts.Source)) {
		t.Errorf("Queues[DeadLetterFunction] = %v; want the queues it peeks at, %v", got, peekedQueues(ts.Source))
	}
	if got := eventQueues(t, ts.Transformed, "DeadLetterFunction"); len(got) != 0 {
		t.Errorf("event source mappings feed DeadLetterFunction from %v; want none (they would consume the dead letters)", got)
	}
	if slices.Contains(Permissions["DeadLetterFunction"], "sqs:DeleteMessage") {
		t.Errorf("DeadLetterFunction may delete messages; want the dead letters left for the operator")
	}
	schedules := 0
	for id, r := range ts.Transformed.Resources() {
		if r["Type"] != "AWS::Events::Rule" {
			continue
		}
		for _, target := range list(dig(r, "Properties", "Targets")) {
			if fn, _ := getAtt(dig(target, "Arn"), "Arn"); fn != "DeadLetterFunction" {
				continue
			}
			schedules++
			if got := dig(r, "Properties", "ScheduleExpression"); got != "rate(1 minute)" {
				t.Errorf("%s ScheduleExpression: got %v; want rate(1 minute)", id, got)
			}
		}
	}
	if schedules != 1 {
		t.Errorf("schedules running DeadLetterFunction: got %d; want 1", schedules)
	}
}

// TestDeadLetterNoRetries: Lambda retries a failed asynchronous (scheduled)
// invocation twice by default; the dead-letter function's retry is the next
// minute's run, so the template asks for none.
func TestDeadLetterNoRetries(t *testing.T) {
	t.Parallel()
	configs := 0
	for id, r := range loaded(t).Transformed.Resources() {
		if r["Type"] != "AWS::Lambda::EventInvokeConfig" {
			continue
		}
		if fn, _ := ref(dig(r, "Properties", "FunctionName")); fn != "DeadLetterFunction" {
			continue
		}
		configs++
		if got := dig(r, "Properties", "MaximumRetryAttempts"); got != 0.0 {
			t.Errorf("%s MaximumRetryAttempts: got %v; want 0", id, got)
		}
		if got := dig(r, "Properties", "MaximumEventAgeInSeconds"); got != 60.0 {
			t.Errorf("%s MaximumEventAgeInSeconds: got %v; want 60, so that a held-back run is dropped, not run beside the next", id, got)
		}
		if got := dig(r, "Properties", "Qualifier"); got != "$LATEST" {
			t.Errorf("%s Qualifier: got %v; want $LATEST, the version the schedule invokes", id, got)
		}
	}
	if configs != 1 {
		t.Errorf("AWS::Lambda::EventInvokeConfig for DeadLetterFunction: got %d; want 1", configs)
	}
}
