-- watermark init
IF NOT EXISTS (SELECT 1 FROM [des_state].[Watermark] WITH (UPDLOCK, HOLDLOCK) WHERE [Profile] = CAST('00000000-0000-0000-0000-000000c0ffee' AS uniqueidentifier) AND [Table] = @P1) INSERT INTO [des_state].[Watermark] ([Profile], [Table], [Seq]) VALUES (CAST('00000000-0000-0000-0000-000000c0ffee' AS uniqueidentifier), @P1, 0)
GO
-- watermark lock
SELECT [Seq] FROM [des_state].[Watermark] WITH (UPDLOCK, HOLDLOCK) WHERE [Profile] = CAST('00000000-0000-0000-0000-000000c0ffee' AS uniqueidentifier) AND [Table] = @P1
GO
-- keys drop
DROP TABLE IF EXISTS #DesKeys
GO
-- keys create
CREATE TABLE #DesKeys ([Id] uniqueidentifier NOT NULL PRIMARY KEY, [Kind] tinyint NOT NULL)
GO
-- gone drop
DROP TABLE IF EXISTS #DesGone
GO
-- gone create
CREATE TABLE #DesGone ([Id] uniqueidentifier NOT NULL, [VersionNumber] bigint NULL)
GO
-- rejected existing
SELECT k.[Id] FROM #DesKeys AS k JOIN [dbo].[crm_account] AS t ON t.[Id] = k.[Id] WHERE k.[Kind] = 2
GO
-- stage drop
DROP TABLE IF EXISTS #DesStage
GO
-- stage create
CREATE TABLE #DesStage ([c0] uniqueidentifier NOT NULL, [c1] int NULL, [c2] bit NULL, [c3] uniqueidentifier NULL, [c4] nvarchar(max) NULL, [c5] decimal(38,2) NULL, [c6] nvarchar(max) NULL, [c7] nvarchar(max) NULL, [c8] bigint NULL, [c9] datetime NULL, PRIMARY KEY ([c0]))
GO
-- upsert
MERGE [dbo].[crm_account] WITH (HOLDLOCK) AS t USING #DesStage AS s ON t.[Id] = s.[c0] WHEN MATCHED AND (t.[versionnumber] IS NULL OR s.[c8] >= t.[versionnumber]) THEN UPDATE SET [SinkModifiedOn] = @P1, [statecode] = s.[c1], [donotemail] = s.[c2], [primarycontactid] = s.[c3], [primarycontactid_entitytype] = s.[c4], [revenue] = s.[c5], [name] = s.[c6], [description] = s.[c7], [versionnumber] = s.[c8], [createdon] = s.[c9] WHEN NOT MATCHED BY TARGET THEN INSERT ([Id], [statecode], [donotemail], [primarycontactid], [primarycontactid_entitytype], [revenue], [name], [description], [versionnumber], [createdon], [SinkCreatedOn], [SinkModifiedOn]) VALUES (s.[c0], s.[c1], s.[c2], s.[c3], s.[c4], s.[c5], s.[c6], s.[c7], s.[c8], s.[c9], @P1, @P1);
GO
-- tombstones lift
DELETE FROM [des_state].[Tombstone] WHERE [Profile] = CAST('00000000-0000-0000-0000-000000c0ffee' AS uniqueidentifier) AND [Table] = @P1 AND [Seq] < @P2 AND [Id] IN (SELECT [c0] FROM #DesStage)
GO
-- delete
DELETE FROM [dbo].[crm_account] OUTPUT deleted.[Id], deleted.[versionnumber] INTO #DesGone ([Id], [VersionNumber]) WHERE [Id] IN (SELECT [Id] FROM #DesKeys WHERE [Kind] = 1)
GO
-- delete log
INSERT INTO [dbo].[crm_DeleteLog] ([EntityName], [RecordId], [SinkDeleteTime], [VersionNumber]) SELECT @P1, CONVERT(nvarchar(64), [Id]), @P2, [VersionNumber] FROM #DesGone
GO
-- gone clear
DELETE FROM #DesGone
GO
-- tombstones put deleted
MERGE [des_state].[Tombstone] AS t USING (SELECT [Id] FROM #DesKeys WHERE [Kind] = 1) AS s ON t.[Profile] = CAST('00000000-0000-0000-0000-000000c0ffee' AS uniqueidentifier) AND t.[Table] = @P1 AND t.[Id] = s.[Id] WHEN MATCHED AND t.[Seq] < @P2 THEN UPDATE SET [Seq] = @P2 WHEN NOT MATCHED BY TARGET THEN INSERT ([Profile], [Table], [Id], [Seq]) VALUES (CAST('00000000-0000-0000-0000-000000c0ffee' AS uniqueidentifier), @P1, s.[Id], @P2);
GO
-- resync seen
INSERT INTO [des_state].[ResyncSeen] ([Profile], [Table], [FirstSeq], [Id]) SELECT CAST('00000000-0000-0000-0000-000000c0ffee' AS uniqueidentifier), @P1, @P2, k.[Id] FROM #DesKeys AS k WHERE NOT EXISTS (SELECT 1 FROM [des_state].[ResyncSeen] AS s WHERE s.[Profile] = CAST('00000000-0000-0000-0000-000000c0ffee' AS uniqueidentifier) AND s.[Table] = @P1 AND s.[FirstSeq] = @P2 AND s.[Id] = k.[Id])
GO
-- resync sweep
DELETE FROM [dbo].[crm_account] OUTPUT deleted.[Id], deleted.[versionnumber] INTO #DesGone ([Id], [VersionNumber]) WHERE [Id] NOT IN (SELECT [Id] FROM [des_state].[ResyncSeen] WHERE [Profile] = CAST('00000000-0000-0000-0000-000000c0ffee' AS uniqueidentifier) AND [Table] = @P1 AND [FirstSeq] = @P2)
GO
-- tombstones put gone
MERGE [des_state].[Tombstone] AS t USING (SELECT DISTINCT [Id] FROM #DesGone) AS s ON t.[Profile] = CAST('00000000-0000-0000-0000-000000c0ffee' AS uniqueidentifier) AND t.[Table] = @P1 AND t.[Id] = s.[Id] WHEN MATCHED AND t.[Seq] < @P2 THEN UPDATE SET [Seq] = @P2 WHEN NOT MATCHED BY TARGET THEN INSERT ([Profile], [Table], [Id], [Seq]) VALUES (CAST('00000000-0000-0000-0000-000000c0ffee' AS uniqueidentifier), @P1, s.[Id], @P2);
GO
-- resync forget
DELETE FROM [des_state].[ResyncSeen] WHERE [Profile] = CAST('00000000-0000-0000-0000-000000c0ffee' AS uniqueidentifier) AND [Table] = @P1
GO
-- watermark set
UPDATE [des_state].[Watermark] SET [Seq] = @P2 WHERE [Profile] = CAST('00000000-0000-0000-0000-000000c0ffee' AS uniqueidentifier) AND [Table] = @P1
GO
-- watermark read
SELECT [Seq] FROM [des_state].[Watermark] WHERE [Profile] = CAST('00000000-0000-0000-0000-000000c0ffee' AS uniqueidentifier) AND [Table] = @P1
GO
-- retry tombstone
SELECT [Seq] FROM [des_state].[Tombstone] WHERE [Profile] = CAST('00000000-0000-0000-0000-000000c0ffee' AS uniqueidentifier) AND [Table] = @P1 AND [Id] = @P2
GO
-- retry version
SELECT [versionnumber] FROM [dbo].[crm_account] WHERE [Id] = @P1
GO
