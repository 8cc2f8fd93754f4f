"""Gap: moto 5.2.5's Lambda drops a function's `LoggingConfig` and `DeadLetterConfig`.

`CreateFunction` and `UpdateFunctionConfiguration` accept both and keep neither, so `GetFunction`
returns no `LoggingConfig` (AWS always returns one: `{"LogFormat": "Text", "LogGroup":
"/aws/lambda/<name>"}` by default) and no `DeadLetterConfig`. Terraform's `aws_lambda_function` with
`logging_config { log_format = "JSON" }` or `dead_letter_config { ... }` (infra/control) then plans an
update on every run. This keeps both and returns them as AWS does.
"""

from moto.awslambda.models import LambdaFunction


def _logging_config(function, requested):
    config = dict(requested or {})
    config.setdefault("LogFormat", "Text")
    config.setdefault("LogGroup", f"/aws/lambda/{function.function_name}")
    if config["LogFormat"] == "JSON":
        # AWS fills the levels in for JSON logs, and has none for text logs.
        config.setdefault("ApplicationLogLevel", "INFO")
        config.setdefault("SystemLogLevel", "INFO")
    else:
        config.pop("ApplicationLogLevel", None)
        config.pop("SystemLogLevel", None)
    return config


def apply():
    init = LambdaFunction.__init__
    get_configuration = LambdaFunction.get_configuration
    update_configuration = LambdaFunction.update_configuration

    def patched_init(self, account_id, spec, region, version=1):
        init(self, account_id, spec, region, version)
        self.compat_logging_config = _logging_config(self, spec.get("LoggingConfig"))
        self.compat_dead_letter_config = spec.get("DeadLetterConfig") or {}

    def patched_get_configuration(self, *args, **kwargs):
        config = get_configuration(self, *args, **kwargs)
        config["LoggingConfig"] = getattr(
            self, "compat_logging_config", None
        ) or _logging_config(self, None)
        dead_letter = getattr(self, "compat_dead_letter_config", None)
        if dead_letter and dead_letter.get("TargetArn"):
            config["DeadLetterConfig"] = dead_letter
        return config

    def patched_update_configuration(self, config_updates):
        if "LoggingConfig" in config_updates:
            # Like AWS: the settings given replace theirs, the others stay.
            merged = dict(getattr(self, "compat_logging_config", None) or {})
            merged.update(config_updates["LoggingConfig"] or {})
            self.compat_logging_config = _logging_config(self, merged)
        if "DeadLetterConfig" in config_updates:
            self.compat_dead_letter_config = config_updates["DeadLetterConfig"] or {}
        update_configuration(self, config_updates)
        return self.get_configuration()

    LambdaFunction.__init__ = patched_init
    LambdaFunction.get_configuration = patched_get_configuration
    LambdaFunction.update_configuration = patched_update_configuration
