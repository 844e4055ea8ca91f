"""Stage 2, reading: the stream split losslessly, each document read as Kubernetes reads it, workloads classified."""
