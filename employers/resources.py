from import_export import fields, resources
from import_export.widgets import ForeignKeyWidget

from .models import Employer, Industry, Township


class EmployerResource(resources.ModelResource):
    township = fields.Field("township", "township", ForeignKeyWidget(Township, "name"))
    industry = fields.Field("industry", "industry", ForeignKeyWidget(Industry, "code"))

    class Meta:
        model = Employer
        fields = (
            "id", "name", "code", "registered_address", "workplace_address", "township", "industry",
            "economic_type", "scale", "workers", "exposed_workers", "operating_status", "suspended_since",
            "register_status", "declaration_status", "declared_on",
        )  # fmt: skip
        export_order = fields
        # Row-by-row saves so every imported change lands in the change history.
        use_bulk = False
        skip_unchanged = True
        report_skipped = False
        clean_model_instances = True
