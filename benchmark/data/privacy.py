"""Keeping protected health information (PHI) out of every output.

The benchmark reads from a DICOM file only its pixels and calibration
(:mod:`benchmark.data.ingest.readers.dicom`), so identifying attributes never enter a table,
a log or a result.  This module lists those attributes — the DICOM PS3.15 Annex E "Basic
Application Level Confidentiality Profile" (Table E.1-1) — and offers the checks used by
``validate`` and the tests:

- :func:`identifying_values` — the identifying values present in one file (for checks only;
  never print them);
- :func:`find_values` — which files under a folder contain any of the given values.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

#: Attribute keywords of the DICOM PS3.15 Table E.1-1 basic de-identification profile
#: (attributes the profile removes, empties or replaces; UIDs included because they can
#: link back to the hospital's records).
BASIC_PROFILE_KEYWORDS: tuple[str, ...] = (
    "AccessionNumber", "AcquisitionComments", "AcquisitionContextSequence",
    "AcquisitionDate", "AcquisitionDateTime", "AcquisitionDeviceProcessingDescription",
    "AcquisitionProtocolDescription", "AcquisitionTime", "ActualHumanPerformersSequence",
    "AdditionalPatientHistory", "AdmissionID", "AdmittingDate",
    "AdmittingDiagnosesCodeSequence", "AdmittingDiagnosesDescription", "AdmittingTime",
    "AffectedSOPInstanceUID", "Allergies", "AuthorObserverSequence", "BranchOfService",
    "CassetteID", "CommentsOnThePerformedProcedureStep", "ConcatenationUID",
    "ConfidentialityConstraintOnPatientDataDescription", "ContentCreatorName",
    "ContentCreatorIdentificationCodeSequence", "ContentDate", "ContentTime",
    "ContextGroupExtensionCreatorUID", "ContributionDescription", "CountryOfResidence",
    "CreatorVersionUID", "CurrentPatientLocation", "CurveDate", "CurveTime",
    "CustodialOrganizationSequence", "DataSetTrailingPadding", "DerivationDescription",
    "DetectorID", "DeviceSerialNumber", "DeviceUID", "DigitalSignatureUID",
    "DigitalSignaturesSequence", "DimensionOrganizationUID", "DischargeDiagnosisDescription",
    "DistributionAddress", "DistributionName", "DoseReferenceUID", "EthnicGroup",
    "FailedSOPInstanceUIDList", "FiducialUID", "FillerOrderNumberImagingServiceRequest",
    "FrameComments", "FrameOfReferenceUID", "GantryID", "GeneratorID",
    "GraphicAnnotationSequence", "HumanPerformerName", "HumanPerformerOrganization",
    "IconImageSequence", "IdentifyingComments", "ImageComments", "ImagePresentationComments",
    "ImagingServiceRequestComments", "Impressions", "InstanceCreatorUID",
    "InstitutionAddress", "InstitutionCodeSequence", "InstitutionName",
    "InstitutionalDepartmentName", "InsurancePlanIdentification",
    "IntendedRecipientsOfResultsIdentificationSequence", "InterpretationApproverSequence",
    "InterpretationAuthor", "InterpretationDiagnosisDescription", "InterpretationIDIssuer",
    "InterpretationRecorder", "InterpretationText", "InterpretationTranscriber",
    "IrradiationEventUID", "IssuerOfAdmissionID", "IssuerOfPatientID",
    "IssuerOfServiceEpisodeID", "LargePaletteColorLookupTableUID",
    "MediaStorageSOPInstanceUID", "MedicalAlerts", "MedicalRecordLocator", "MilitaryRank",
    "ModifiedAttributesSequence", "ModifiedImageDescription", "ModifyingDeviceID",
    "ModifyingDeviceManufacturer", "NameOfPhysiciansReadingStudy",
    "NamesOfIntendedRecipientsOfResults", "Occupation", "OperatorIdentificationSequence",
    "OperatorsName", "OriginalAttributesSequence", "OrderCallbackPhoneNumber",
    "OrderEnteredBy", "OrderEntererLocation", "OtherPatientIDs", "OtherPatientIDsSequence",
    "OtherPatientNames", "OverlayDate", "OverlayTime", "PaletteColorLookupTableUID",
    "ParticipantSequence", "PatientAddress", "PatientComments", "PatientID",
    "PatientSexNeutered", "PatientState", "PatientTransportArrangements", "PatientAge",
    "PatientBirthDate", "PatientBirthName", "PatientBirthTime",
    "PatientInstitutionResidence", "PatientInsurancePlanCodeSequence",
    "PatientMotherBirthName", "PatientName", "PatientPrimaryLanguageCodeSequence",
    "PatientPrimaryLanguageModifierCodeSequence", "PatientReligiousPreference", "PatientSex",
    "PatientSize", "PatientTelephoneNumbers", "PatientWeight", "PerformedLocation",
    "PerformedProcedureStepDescription", "PerformedProcedureStepID",
    "PerformedProcedureStepStartDate", "PerformedProcedureStepStartTime",
    "PerformedStationAETitle", "PerformedStationGeographicLocationCodeSequence",
    "PerformedStationName", "PerformedStationNameCodeSequence",
    "PerformingPhysicianIdentificationSequence", "PerformingPhysicianName", "PersonAddress",
    "PersonIdentificationCodeSequence", "PersonName", "PersonTelephoneNumbers",
    "PhysicianApprovingInterpretation", "PhysiciansReadingStudyIdentificationSequence",
    "PhysiciansOfRecord", "PhysiciansOfRecordIdentificationSequence",
    "PlacerOrderNumberImagingServiceRequest", "PlateID", "PreMedication", "PregnancyStatus",
    "ProtocolName", "ReasonForTheImagingServiceRequest", "ReasonForStudy",
    "ReferencedDigitalSignatureSequence", "ReferencedFrameOfReferenceUID",
    "ReferencedImageSequence", "ReferencedPatientAliasSequence", "ReferencedPatientSequence",
    "ReferencedPerformedProcedureStepSequence", "ReferencedSOPInstanceMACSequence",
    "ReferencedSOPInstanceUID", "ReferencedSOPInstanceUIDInFile", "ReferencedStudySequence",
    "ReferringPhysicianAddress", "ReferringPhysicianIdentificationSequence",
    "ReferringPhysicianName", "ReferringPhysicianTelephoneNumbers", "RegionOfResidence",
    "RelatedFrameOfReferenceUID", "RequestAttributesSequence", "RequestedContrastAgent",
    "RequestedProcedureComments", "RequestedProcedureDescription", "RequestedProcedureID",
    "RequestedProcedureLocation", "RequestedSOPInstanceUID", "RequestingPhysician",
    "RequestingService", "ResponsibleOrganization", "ResponsiblePerson", "ResultsComments",
    "ResultsDistributionListSequence", "ResultsIDIssuer", "ReviewerName",
    "ScheduledHumanPerformersSequence", "ScheduledPatientInstitutionResidence",
    "ScheduledPerformingPhysicianIdentificationSequence", "ScheduledPerformingPhysicianName",
    "ScheduledProcedureStepEndDate", "ScheduledProcedureStepEndTime",
    "ScheduledProcedureStepDescription", "ScheduledProcedureStepLocation",
    "ScheduledProcedureStepStartDate", "ScheduledProcedureStepStartTime",
    "ScheduledStationAETitle", "ScheduledStationGeographicLocationCodeSequence",
    "ScheduledStationName", "ScheduledStationNameCodeSequence", "ScheduledStudyLocation",
    "ScheduledStudyLocationAETitle", "SeriesDate", "SeriesDescription", "SeriesInstanceUID",
    "SeriesTime", "ServiceEpisodeDescription", "ServiceEpisodeID", "SmokingStatus",
    "SOPInstanceUID", "SourceImageSequence", "SpecialNeeds", "StationName",
    "StorageMediaFileSetUID", "StudyComments", "StudyDate", "StudyDescription", "StudyID",
    "StudyIDIssuer", "StudyInstanceUID", "StudyTime", "SynchronizationFrameOfReferenceUID",
    "TemplateExtensionCreatorUID", "TemplateExtensionOrganizationUID", "TextComments",
    "TextString", "TimezoneOffsetFromUTC", "TopicAuthor", "TopicKeywords", "TopicSubject",
    "TopicTitle", "TransactionUID", "UID", "VerifyingObserverIdentificationCodeSequence",
    "VerifyingObserverName", "VerifyingObserverSequence", "VerifyingOrganization",
    "VisitComments",
)

#: The attributes that directly name the patient; checked against manifest ids and paths.
DIRECT_IDENTIFIERS = ("PatientName", "PatientID", "OtherPatientIDs", "OtherPatientNames",
                      "PatientBirthName", "PatientMotherBirthName", "AccessionNumber")


def identifying_values(path: Path, keywords: Iterable[str] = BASIC_PROFILE_KEYWORDS
                       ) -> dict[str, str]:
    """``{keyword: value}`` of the non-empty identifying fields of an image file.

    For checks (is this value somewhere it must not be?) — never print the values.  Asked
    of the file's reader (:mod:`benchmark.data.ingest.readers`); formats that carry no patient
    fields give ``{}``.
    """
    from benchmark.data.ingest.readers import reader_for

    reader = reader_for(Path(path))
    if not reader.has_identifying_fields:
        return {}
    return reader.identifying_fields(Path(path), keywords)


def find_values(folder: Path, values: Iterable[str]) -> list[tuple[Path, str]]:
    """Every (file, value) where a value occurs (as bytes) in a file under ``folder``."""
    needles = [(v, v.encode()) for v in values if len(v) >= 3]
    hits = []
    for path in sorted(p for p in Path(folder).rglob("*") if p.is_file()):
        data = path.read_bytes()
        hits.extend((path, value) for value, raw in needles if raw in data)
    return hits
