output "cluster_name" {
  description = "The event's ECS cluster."
  value       = aws_ecs_cluster.this.name
}
