package metrics

import (
	"context"
	"log/slog"
	"time"

	"github.com/asyncprime/asyncprime/internal/task"
)

// Namespace is the CloudWatch namespace of the metrics; the template's
// dashboard reads them there.
const Namespace = "asyncprime"

// Metric names, as the template's dashboard reads them.
const (
	MetricSubmitted     = "TasksSubmitted"
	MetricSucceeded     = "TasksSucceeded"
	MetricFailed        = "TasksFailed"
	MetricCheckDuration = "CheckDuration"
	MetricSubmitToStart = "SubmitToStart"
)

// DimensionFunction is the one dimension: the Lambda function's name.
const DimensionFunction = "FunctionName"

// EMF is an Observer that logs each transition as a CloudWatch Embedded
// Metric Format record: a JSON log line whose _aws member tells CloudWatch
// Logs which of its fields are metrics. With the functions' JSON log format
// the line goes out as it is written, so Logger must write JSON (the
// functions pass lambdacontext.NewLogger()); its level must let INFO
// through.
type EMF struct {
	Logger   *slog.Logger
	Function string           // the FunctionName dimension: lambdacontext.FunctionName
	Now      func() time.Time // time.Now if nil
}

type metricDef struct {
	Name string `json:"Name"`
	Unit string `json:"Unit"`
}

type directive struct {
	Namespace  string      `json:"Namespace"`
	Dimensions [][]string  `json:"Dimensions"`
	Metrics    []metricDef `json:"Metrics"`
}

// Observe implements Observer.
func (e *EMF) Observe(ctx context.Context, ev Event) {
	var values []slog.Attr
	var defs []metricDef
	add := func(name, unit string, v float64) {
		defs = append(defs, metricDef{Name: name, Unit: unit})
		values = append(values, slog.Float64(name, v))
	}
	switch ev.Kind {
	case Submitted:
		add(MetricSubmitted, "Count", 1)
	case Started:
		if ev.Task.Attempts == 1 && !ev.Task.CreatedAt.IsZero() {
			add(MetricSubmitToStart, "Milliseconds", ms(ev.Task.StartedAt.Sub(ev.Task.CreatedAt)))
		}
	case Finished:
		if ev.Task.Status == task.StatusSuccess {
			add(MetricSucceeded, "Count", 1)
		} else {
			add(MetricFailed, "Count", 1)
		}
		if ev.CheckDuration > 0 {
			add(MetricCheckDuration, "Milliseconds", ms(ev.CheckDuration))
		}
	case Abandoned:
		add(MetricFailed, "Count", 1)
	}
	if len(defs) == 0 {
		return
	}
	now := time.Now
	if e.Now != nil {
		now = e.Now
	}
	attrs := append([]slog.Attr{
		slog.Any("_aws", map[string]any{
			"Timestamp": now().UnixMilli(),
			"CloudWatchMetrics": []directive{{
				Namespace:  Namespace,
				Dimensions: [][]string{{DimensionFunction}},
				Metrics:    defs,
			}},
		}),
		slog.String(DimensionFunction, e.Function),
		slog.String("task_id", ev.Task.ID),
	}, values...)
	e.Logger.LogAttrs(ctx, slog.LevelInfo, "metrics", attrs...)
}

func ms(d time.Duration) float64 { return float64(max(d, 0)) / float64(time.Millisecond) }
