-- transaction manager (begin, commit or rollback)
GO
-- sp_executesql
IF NOT EXISTS (SELECT 1 FROM [des_state].[Watermark] WITH (UPDLOCK, HOLDLOCK) WHERE [Profile] = CAST('00000000-0000-0000-0000-000000000000' AS uniqueidentifier) AND [Table] = @P1) INSERT INTO [des_state].[Watermark] ([Profile], [Table], [Seq]) VALUES (CAST('00000000-0000-0000-0000-000000000000' AS uniqueidentifier), @P1, 0)
GO
-- sp_executesql
SELECT [Seq] FROM [des_state].[Watermark] WITH (UPDLOCK, HOLDLOCK) WHERE [Profile] = CAST('00000000-0000-0000-0000-000000000000' AS uniqueidentifier) AND [Table] = @P1
GO
-- batch
DROP TABLE IF EXISTS #DesKeys
GO
-- batch
CREATE TABLE #DesKeys ([Id] uniqueidentifier NOT NULL PRIMARY KEY, [Kind] tinyint NOT NULL)
GO
-- batch
DROP TABLE IF EXISTS #DesGone
GO
-- batch
CREATE TABLE #DesGone ([Id] uniqueidentifier NOT NULL, [VersionNumber] bigint NULL)
GO
-- batch
SELECT TOP 0 * FROM #DesKeys
GO
-- batch
INSERT BULK #DesKeys ([Id] uniqueidentifier, [Kind] tinyint)
GO
-- bulk-load rows
GO
-- sp_executesql
SELECT k.[Id] FROM #DesKeys AS k JOIN [dbo].[des_account] AS t ON t.[Id] = k.[Id] WHERE k.[Kind] = 2
GO
-- batch
DROP TABLE IF EXISTS #DesStage
GO
-- batch
CREATE TABLE #DesStage ([c0] uniqueidentifier NOT NULL, [c1] int NULL, [c2] uniqueidentifier NULL, [c3] nvarchar(max) NULL, [c4] decimal(38,2) NULL, [c5] nvarchar(max) NULL, [c6] bigint NULL, PRIMARY KEY ([c0]))
GO
-- batch
SELECT TOP 0 * FROM #DesStage
GO
-- batch
INSERT BULK #DesStage ([c0] uniqueidentifier, [c1] int, [c2] uniqueidentifier, [c3] nvarchar(max), [c4] decimal(38,2), [c5] nvarchar(max), [c6] bigint)
GO
-- bulk-load rows
GO
-- sp_executesql
MERGE [dbo].[des_account] WITH (HOLDLOCK) AS t USING #DesStage AS s ON t.[Id] = s.[c0] WHEN MATCHED AND (t.[versionnumber] IS NULL OR s.[c6] >= t.[versionnumber]) THEN UPDATE SET [SinkModifiedOn] = @P1, [industrycode] = s.[c1], [primarycontactid] = s.[c2], [primarycontactid_entitytype] = s.[c3], [revenue] = s.[c4], [name] = s.[c5], [versionnumber] = s.[c6] WHEN NOT MATCHED BY TARGET THEN INSERT ([Id], [industrycode], [primarycontactid], [primarycontactid_entitytype], [revenue], [name], [versionnumber], [SinkCreatedOn], [SinkModifiedOn]) VALUES (s.[c0], s.[c1], s.[c2], s.[c3], s.[c4], s.[c5], s.[c6], @P1, @P1);
GO
-- sp_executesql
DELETE FROM [des_state].[Tombstone] WHERE [Profile] = CAST('00000000-0000-0000-0000-000000000000' AS uniqueidentifier) AND [Table] = @P1 AND [Seq] < @P2 AND [Id] IN (SELECT [c0] FROM #DesStage)
GO
-- batch
DELETE FROM [dbo].[des_account] OUTPUT deleted.[Id], deleted.[versionnumber] INTO #DesGone ([Id], [VersionNumber]) WHERE [Id] IN (SELECT [Id] FROM #DesKeys WHERE [Kind] = 1)
GO
-- sp_executesql
INSERT INTO [dbo].[des_DeleteLog] ([EntityName], [RecordId], [SinkDeleteTime], [VersionNumber]) SELECT @P1, CONVERT(nvarchar(64), [Id]), @P2, [VersionNumber] FROM #DesGone
GO
-- batch
DELETE FROM #DesGone
GO
-- sp_executesql
MERGE [des_state].[Tombstone] AS t USING (SELECT [Id] FROM #DesKeys WHERE [Kind] = 1) AS s ON t.[Profile] = CAST('00000000-0000-0000-0000-000000000000' AS uniqueidentifier) AND t.[Table] = @P1 AND t.[Id] = s.[Id] WHEN MATCHED AND t.[Seq] < @P2 THEN UPDATE SET [Seq] = @P2 WHEN NOT MATCHED BY TARGET THEN INSERT ([Profile], [Table], [Id], [Seq]) VALUES (CAST('00000000-0000-0000-0000-000000000000' AS uniqueidentifier), @P1, s.[Id], @P2);
GO
-- sp_executesql
UPDATE [des_state].[Watermark] SET [Seq] = @P2 WHERE [Profile] = CAST('00000000-0000-0000-0000-000000000000' AS uniqueidentifier) AND [Table] = @P1
GO
-- transaction manager (begin, commit or rollback)
GO
