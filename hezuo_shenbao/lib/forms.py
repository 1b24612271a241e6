"""Form pieces every app uses: Bootstrap classes, optimistic locking, several files in one input."""

from django import forms

from hezuo_shenbao.lib.clean import CleanInputMixin
from hezuo_shenbao.lib.concurrency import expect_version
from hezuo_shenbao.lib.uploads import validate_upload


class BootstrapMixin(CleanInputMixin):
    """Give every widget Bootstrap's classes, so templates can render fields plainly.

    Every app form has it, so it also brings the input sanitiser (control characters, lengths, ranges)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.CheckboxSelectMultiple):
                continue
            if isinstance(widget, forms.CheckboxInput):
                widget.attrs.setdefault("class", "form-check-input")
            elif isinstance(widget, forms.Select):
                widget.attrs.setdefault("class", "form-select")
            else:
                widget.attrs.setdefault("class", "form-control")


class VersionedForm(forms.ModelForm):
    """Carries the record's version, so a save based on an older copy is refused (StaleEdit)."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["version"].initial = self.instance.version

    def save(self, commit=True):
        if not self.instance.pk:
            return super().save(commit)
        with expect_version(self.instance, self.cleaned_data.get("version")):
            return super().save(commit)


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input, each checked by content and size (Django's documented recipe)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": "image/*,application/pdf"}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        files = data if isinstance(data, list | tuple) else [data] if data else []
        cleaned = [super(MultipleFileField, self).clean(f, initial) for f in files]
        for upload in cleaned:
            validate_upload(upload)
        return cleaned
