CREATE OR ALTER VIEW [dbo].[account_Labeled] AS
SELECT t.*,
    (SELECT MIN(m.[LocalizedLabel]) FROM [dbo].[StateMetadata] AS m WHERE m.[EntityName] = 'account' AND m.[IsUserLocalizedLabel] = 1 AND m.[State] = t.[statecode]) AS [statecodename],
    (SELECT MIN(m.[LocalizedLabel]) FROM [dbo].[OptionSetMetadata] AS m WHERE m.[EntityName] = 'account' AND m.[IsUserLocalizedLabel] = 1 AND m.[OptionSetName] = 'industrycode' AND m.[Option] = t.[industrycode]) AS [industrycodename],
    (SELECT STRING_AGG(m.[LocalizedLabel], N'; ') WITHIN GROUP (ORDER BY CHARINDEX(N',' + v.value + N',', N',' + t.[new_tags] + N',')) FROM STRING_SPLIT(t.[new_tags], N',') AS v, [dbo].[OptionSetMetadata] AS m WHERE m.[EntityName] = 'account' AND m.[IsUserLocalizedLabel] = 1 AND m.[OptionSetName] = 'new_tags' AND m.[Option] = TRY_CAST(v.value AS int)) AS [new_tagsname] FROM [dbo].[account] AS t
GO
