"""Form rendering with an error summary, labels and described-by links on every field."""

from django.forms.renderers import TemplatesSetting


class AccessibleFormRenderer(TemplatesSetting):
    form_template_name = "core/forms/form.html"
    field_template_name = "core/forms/field.html"
