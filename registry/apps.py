from django.apps import AppConfig


class RegistryConfig(AppConfig):
    name = "registry"
    verbose_name = "Registry"

    def ready(self) -> None:
        from kernel.dashboard import register_panels
        from registry.dashboard import inventory_panels

        register_panels(inventory_panels)
